import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface WsBackend {
  readonly id: number;
  readonly url: string;
  /** Handshakes that reached this backend (upgrades and plain requests). */
  readonly handshakes: http.IncomingHttpHeaders[];
  /** Close codes and reasons this backend received from the gateway, in order. */
  readonly closes: { code: number; reason: string }[];
  /** The server side of the latest connection, null before the first. */
  last(): WebSocket | null;
  /** Resolves once `closes` has `n` entries. */
  closed(n: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A WebSocket upstream on port 0. Path /echo echoes (text stays text, binary
 * binary); /hello sends "backend <id>" on open; /bye answers the message
 * "bye" with close 4000; /deny refuses the upgrade with 401; every path
 * prefers subprotocol "chat.v2".
 */
export async function startWsBackend(id: number): Promise<WsBackend> {
  const handshakes: http.IncomingHttpHeaders[] = [];
  const closes: { code: number; reason: string }[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let latest: WebSocket | null = null;
  const server = http.createServer((req, res) => {
    handshakes.push(req.headers);
    res.end(`backend ${id} plain`);
  });
  const wss = new WebSocketServer({
    server,
    maxPayload: 64 * 1024 * 1024,
    handleProtocols: (offered) => (offered.has('chat.v2') ? 'chat.v2' : false),
    verifyClient: (info, cb) => (info.req.url?.includes('/deny') === true ? cb(false, 401, 'Unauthorized') : cb(true)),
  });
  wss.on('headers', (_h, req) => handshakes.push(req.headers));
  wss.on('connection', (ws, req) => {
    latest = ws;
    const path = req.url ?? '/';
    ws.on('close', (code, reason) => {
      closes.push({ code, reason: reason.toString() });
      for (const w of waiters.filter((x) => closes.length >= x.n)) w.resolve();
    });
    if (path.includes('/hello')) ws.send(`backend ${id}`);
    ws.on('message', (data, isBinary) => {
      if (path.includes('/bye') && data.toString() === 'bye') ws.close(4000, 'upstream says bye');
      else if (path.includes('/echo') || path.includes('/hello')) ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    id,
    url: `http://127.0.0.1:${port}`,
    handshakes,
    closes,
    last: () => latest,
    closed: (n) =>
      new Promise<void>((resolve) => {
        if (closes.length >= n) resolve();
        else waiters.push({ n, resolve });
      }),
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
