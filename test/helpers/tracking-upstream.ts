import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the upstream saw of one tagged request (`?tag=` in the URL). */
export interface Seen {
  readonly tag: string;
  readonly path: string;
  readonly arrivedAt: number;
  /** When the request or its socket went away before the exchange ended (0 while open or after a clean end). */
  closedAt: number;
  /** The exchange finished normally (full body read, full response written). */
  completed: boolean;
  bodyBytes: number;
  /** Response body bytes handed to the socket (big downloads). */
  written: number;
}

export interface TrackingUpstream {
  readonly url: string;
  readonly seen: Map<string, Seen>;
  /** Sockets the gateway holds open to this upstream right now. */
  openSockets(): number;
  /** Resolves when `tag` arrives (already arrived counts). */
  arrived(tag: string): Promise<Seen>;
  /** Resolves when `tag` is aborted by the gateway. */
  aborted(tag: string): Promise<Seen>;
  close(): Promise<void>;
}

export const BIG_BYTES = 50 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/**
 * A node:http upstream whose behaviour depends on the path: `/ok` answers at
 * once, `/slow` after 300 ms, `/hang` never, `/partial` sends the head and
 * 64 KB of a 1 MB body then hangs, `/upload` answers the sha256 of the body,
 * `/big` streams 50 MB with backpressure. Every tagged request is recorded,
 * including when the gateway gave up on it.
 */
export async function startTrackingUpstream(): Promise<TrackingUpstream> {
  const seen = new Map<string, Seen>();
  const waiters: { tag: string; aborted: boolean; resolve: (s: Seen) => void }[] = [];
  const wake = (): void => {
    for (const w of [...waiters]) {
      const s = seen.get(w.tag);
      if (s === undefined || (w.aborted && s.closedAt === 0)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(s);
    }
  };
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const tag = url.searchParams.get('tag') ?? '';
    const s: Seen = { tag, path: url.pathname, arrivedAt: Date.now(), closedAt: 0, completed: false, bodyBytes: 0, written: 0 };
    if (tag !== '') seen.set(tag, s);
    wake();
    res.on('close', () => {
      if (!res.writableFinished) s.closedAt = Date.now();
      wake();
    });
    const hash = createHash('sha256');
    req.on('data', (c: Buffer) => {
      s.bodyBytes += c.length;
      hash.update(c);
    });
    switch (url.pathname) {
      case '/ok':
        req.on('end', () => res.end('ok'));
        break;
      case '/slow':
        req.on('end', () => setTimeout(() => res.end('slow ok'), 300));
        break;
      case '/hang':
        break;
      case '/partial':
        res.writeHead(200, { 'content-length': String(1 << 20) });
        res.write(CHUNK);
        break;
      case '/upload':
        req.on('end', () => res.end(`${s.bodyBytes} ${hash.digest('hex')}`));
        break;
      case '/big':
        res.writeHead(200, { 'content-length': String(BIG_BYTES) });
        void pump(res, s);
        break;
      default:
        res.writeHead(404).end();
    }
    res.on('finish', () => (s.completed = true));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const wait = (tag: string, aborted: boolean): Promise<Seen> =>
    new Promise((resolve) => {
      waiters.push({ tag, aborted, resolve });
      wake();
    });
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    openSockets: () => sockets.size,
    arrived: (tag) => wait(tag, false),
    aborted: (tag) => wait(tag, true),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes BIG_BYTES, waiting for 'drain' whenever the socket is full: `written` stops where the path back-pressures. */
async function pump(res: http.ServerResponse, s: Seen): Promise<void> {
  while (s.written < BIG_BYTES && !res.destroyed) {
    const chunk = CHUNK.subarray(0, Math.min(CHUNK.length, BIG_BYTES - s.written));
    s.written += chunk.length;
    if (!res.write(chunk)) await new Promise<void>((resolve) => {
      const go = (): void => {
        res.off('drain', go);
        res.off('close', go);
        resolve();
      };
      res.on('drain', go);
      res.on('close', go);
    });
  }
  if (!res.destroyed) res.end();
}
