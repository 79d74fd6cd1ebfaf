import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One request as the fake upstream read it off the wire. */
export interface ReceivedRequest {
  /** Which accepted connection carried it (0, 1, ...): tells a reused socket from a new one. */
  readonly conn: number;
  readonly method: string;
  readonly path: string;
  readonly head: string;
  readonly body: string;
}

/** What the upstream does, in order: write bytes, wait (a time or until the test says), close cleanly (FIN), reset (RST), or tell the test it got here. */
export type Step =
  | readonly ['write', string | Buffer]
  | readonly ['wait', number]
  | readonly ['until', Promise<void>]
  | readonly ['end']
  | readonly ['reset']
  | readonly ['signal', () => void];

/** The steps that answer one request; `index` counts requests across all connections. */
export type Script = (req: ReceivedRequest, index: number) => readonly Step[];

export interface FaultUpstream {
  readonly port: number;
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** A well-formed keep-alive response. */
export function reply(status: number, body: string, headers: Record<string, string> = {}): string {
  const lines = [`HTTP/1.1 ${status} X`, `content-length: ${Buffer.byteLength(body)}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Splits complete requests (Content-Length or chunked bodies) off the front of `buf`. */
function takeRequest(buf: Buffer, conn: number): { req: ReceivedRequest; rest: Buffer } | null {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const head = buf.subarray(0, headEnd).toString('latin1');
  const [method = '', path = ''] = head.split(' ');
  let offset = headEnd + 4;
  let body = '';
  const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (cl !== null) {
    const n = Number(cl[1]);
    if (buf.length < offset + n) return null;
    body = buf.subarray(offset, offset + n).toString('latin1');
    offset += n;
  } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', offset);
      if (lineEnd < 0) return null;
      const size = parseInt(buf.subarray(offset, lineEnd).toString('latin1'), 16);
      if (buf.length < lineEnd + 2 + size + 2) return null;
      body += buf.subarray(lineEnd + 2, lineEnd + 2 + size).toString('latin1');
      offset = lineEnd + 2 + size + 2;
      if (size === 0) break;
    }
  }
  return { req: { conn, method, path, head, body }, rest: buf.subarray(offset) };
}

/**
 * A raw `net` upstream that answers each request with a script: the exact
 * bytes, pauses, FIN or RST. Requests on one connection are answered in order.
 */
export async function startFaultUpstream(script: Script): Promise<FaultUpstream> {
  const received: ReceivedRequest[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    const conn = accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf: Buffer = Buffer.alloc(0);
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (let taken = takeRequest(buf, conn); taken !== null; taken = takeRequest(buf, conn)) {
        buf = taken.rest;
        const req = taken.req;
        const steps = script(req, received.length);
        received.push(req);
        queue = queue.then(() => play(socket, steps));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    received,
    connections: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function play(socket: net.Socket, steps: readonly Step[]): Promise<void> {
  for (const step of steps) {
    if (step[0] === 'signal') {
      step[1]();
      continue;
    }
    if (socket.destroyed) continue;
    switch (step[0]) {
      case 'write':
        await new Promise<void>((resolve) => socket.write(step[1], () => resolve()));
        break;
      case 'wait':
        await sleep(step[1]);
        break;
      case 'until':
        await step[1];
        break;
      case 'end':
        socket.end();
        break;
      case 'reset':
        socket.resetAndDestroy();
        break;
    }
  }
}

/**
 * A loopback listener whose accept queue is full, so a new connection's SYN
 * is dropped and connect() hangs until the caller's timeout: a child process
 * listens with backlog 1, then blocks its event loop so it never accepts, and
 * two connections fill the queue (Linux queues backlog + 1).
 */
export async function startBlackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const code = `
    const s = require('node:net').createServer();
    s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(s.address().port + '\\n', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
    });`;
  const child: ChildProcess = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout?.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    fillers.push(s);
  }
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
