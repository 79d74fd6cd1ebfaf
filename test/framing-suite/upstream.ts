import * as net from 'node:net';

/** One request as the upstream parsed it off the wire. */
export interface SeenRequest {
  method: string;
  target: string;
  headers: [string, string][];
  body: string;
  /** False while the body is still arriving; stays false when the gateway aborted it. */
  complete: boolean;
  /** The connection it arrived on has closed. */
  closed: boolean;
}

/**
 * A raw `net` upstream that parses what the gateway sends (Content-Length or
 * chunked bodies) and records every request, complete or not. It answers each complete request `200 ok`.
 */
export class RecordingUpstream {
  readonly requests: SeenRequest[] = [];
  private readonly server = net.createServer((socket) => this.serve(socket));
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests whose target starts with `prefix`. */
  seen(prefix: string): SeenRequest[] {
    return this.requests.filter((r) => r.target.startsWith(prefix));
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    const mine: SeenRequest[] = [];
    socket.on('close', () => {
      this.sockets.delete(socket);
      for (const r of mine) r.closed = true;
    });
    socket.on('error', () => undefined);
    let buf = '';
    let current: SeenRequest | null = null;
    let need = 0;
    let chunked = false;
    const parse = (): void => {
      for (;;) {
        if (current === null) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const lines = buf.slice(0, end).split('\r\n');
          buf = buf.slice(end + 4);
          const [method = '', target = ''] = (lines.shift() ?? '').split(' ');
          const headers = lines.map((l): [string, string] => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
          current = { method, target, headers, body: '', complete: false, closed: false };
          this.requests.push(current);
          mine.push(current);
          const te = headers.find(([k]) => k === 'transfer-encoding');
          const cl = headers.find(([k]) => k === 'content-length');
          chunked = te !== undefined;
          need = cl === undefined ? 0 : Number(cl[1]);
        }
        const req: SeenRequest = current;
        if (chunked) {
          const eol = buf.indexOf('\r\n');
          if (eol < 0) return;
          const size = parseInt(buf.slice(0, eol), 16);
          if (size === 0) {
            const end = buf.indexOf('\r\n\r\n', eol - 2);
            if (end < 0) return;
            buf = buf.slice(end + 4);
          } else {
            if (buf.length < eol + 2 + size + 2) return;
            req.body += buf.slice(eol + 2, eol + 2 + size);
            buf = buf.slice(eol + 2 + size + 2);
            continue;
          }
        } else {
          if (buf.length < need) {
            req.body += buf;
            need -= buf.length;
            buf = '';
            return;
          }
          req.body += buf.slice(0, need);
          buf = buf.slice(need);
        }
        req.complete = true;
        current = null;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
    };
    socket.on('data', (c: Buffer) => {
      const text = c.toString('latin1');
      buf += text;
      parse();
    });
  }
}
