import * as net from 'node:net';

export interface RawReply {
  /** Everything the server sent before closing (or before the wait ended). */
  text: string;
  /** True when the server closed the connection. */
  closed: boolean;
}

/**
 * Writes raw bytes and collects the answer. Resolves when the server closes,
 * or `idleMs` after the last byte received once something arrived (a
 * keep-alive answer), or after `maxMs` in all cases.
 */
export function rawRequest(port: number, payload: string | Buffer, opts: { idleMs?: number; maxMs?: number } = {}): Promise<RawReply> {
  const idleMs = opts.idleMs ?? 300;
  const maxMs = opts.maxMs ?? 5_000;
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let idle: NodeJS.Timeout | null = null;
    const done = (closed: boolean): void => {
      if (idle !== null) clearTimeout(idle);
      clearTimeout(max);
      socket.destroy();
      resolve({ text, closed });
    };
    const max = setTimeout(() => done(false), maxMs);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (idle !== null) clearTimeout(idle);
      idle = setTimeout(() => done(false), idleMs);
    });
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
  });
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
