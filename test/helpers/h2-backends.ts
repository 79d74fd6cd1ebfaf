import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface H2Backend {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Request headers seen, in order. */
  readonly seen: http2.IncomingHttpHeaders[];
  /** HTTP/2 sessions (connections) accepted. */
  sessions: number;
  /** Streams open at once, at most. */
  maxConcurrent: number;
  close(): Promise<void>;
}

export type H2Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

/** Answers "<name> <path>" with x-backend: <name>. */
export function h2Echo(name: string): H2Handler {
  return (stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-backend': name });
    stream.end(`${name} ${String(headers[':path'])}`);
  };
}

/** A cleartext HTTP/2 server (prior knowledge, like Envoy's h2 upstreams); `port` 0 picks one. */
export async function startH2Backend(name: string, address = '127.0.0.1', port = 0, handler: H2Handler = h2Echo(name)): Promise<H2Backend> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  let open = 0;
  const backend = {
    name,
    address,
    port: 0,
    seen: [] as http2.IncomingHttpHeaders[],
    sessions: 0,
    maxConcurrent: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('session', (s) => {
    backend.sessions++;
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    backend.seen.push(headers);
    backend.maxConcurrent = Math.max(backend.maxConcurrent, ++open);
    stream.on('close', () => open--);
    // Drain the request body before answering.
    stream.resume();
    stream.on('end', () => handler(stream, headers));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  backend.port = (server.address() as AddressInfo).port;
  return backend;
}

/**
 * One h2c backend per address, all on the same port (DNS gives addresses, the
 * URL gives the port): the port is picked on the first address and retried
 * when another address already has it taken.
 */
export async function startH2BackendsOnOnePort(names: string[], addresses: string[], handlerOf: (name: string) => H2Handler = h2Echo): Promise<H2Backend[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await startH2Backend(names[0] as string, addresses[0] as string, 0, handlerOf(names[0] as string));
    const all = [first];
    try {
      for (let i = 1; i < names.length; i++) all.push(await startH2Backend(names[i] as string, addresses[i] as string, first.port, handlerOf(names[i] as string)));
      return all;
    } catch {
      await Promise.all(all.map((b) => b.close()));
    }
  }
  throw new Error('no port free on every address');
}
