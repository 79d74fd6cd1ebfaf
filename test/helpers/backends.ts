import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
  body: string;
}

export interface Backend {
  readonly id: number;
  readonly port: number;
  readonly url: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

export type BackendHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** Answers "backend <id> <method> <url>" and records what it received (body kept when small). */
export function echoHandler(id: number): BackendHandler {
  return (req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.setHeader('x-backend', String(id));
    res.end(`backend ${id} ${req.method} ${req.url}`);
  };
}

/** `port` 0 picks a free port; a fixed one restarts a backend where a stopped one listened. `host` may be '::1'. */
export async function startBackend(id: number, handler: BackendHandler = echoHandler(id), port = 0, host = '127.0.0.1'): Promise<Backend> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes <= 1 << 20) chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes: bytes, body: body.toString() });
      handler(req, res, body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    id,
    port: bound,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startBackends(n: number): Promise<Backend[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => startBackend(i + 1)));
}
