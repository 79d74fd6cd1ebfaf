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
 * keep-alive answer), or after `maxMs` in all cases. `later` is written
 * `laterMs` after the payload (on the wire, before its answer).
 */
export function rawRequest(port: number, payload: string | Buffer, opts: { idleMs?: number; maxMs?: number; later?: string | Buffer; laterMs?: number } = {}): Promise<RawReply> {
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
    socket.on('connect', () => {
      socket.write(payload);
      const later = opts.later;
      if (later !== undefined) setTimeout(() => socket.write(later), opts.laterMs ?? 50);
    });
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (idle !== null) clearTimeout(idle);
      idle = setTimeout(() => done(false), idleMs);
    });
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
  });
}

/**
 * A loopback port that refuses connections for the whole test: a privileged
 * one (below 1024), which port-0 listeners are never given and tests never
 * bind, so no other test can take it between lookup and use (as it can a
 * released ephemeral port from closedPort).
 */
export async function refusingPort(): Promise<number> {
  for (const port of [9, 1, 3, 5, 11, 13, 17]) {
    if ((await connectResult(port)) === 'ECONNREFUSED') return port;
  }
  throw new Error('no refusing privileged loopback port found');
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves with the error code of a TCP connect to loopback `port` ('connected' when one is accepted). */
export function connectResult(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
