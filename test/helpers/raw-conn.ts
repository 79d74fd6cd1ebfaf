import * as net from 'node:net';
import * as tls from 'node:tls';

/** Opens a raw loopback connection (TLS without verification when `secure`) and resolves once it is up. */
export async function openSocket(port: number, secure = false): Promise<net.Socket> {
  if (secure) {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    return socket;
  }
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

/**
 * One raw client connection that collects what arrives (latin1) and wakes a
 * waiter on every arrival and on the close, so a test awaits events, not sleeps.
 */
export class RawConn {
  text = '';
  closed = false;
  private wake: (() => void) | null = null;
  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => {
      this.text += c.toString('latin1');
      this.poke();
    });
    socket.on('close', () => {
      this.closed = true;
      this.poke();
    });
    socket.on('error', () => undefined);
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    if (w !== null) w();
  }

  /** Waits until `done` holds, checked again on every arrival and the close; gives up after `ms` when given. */
  protected async until(done: () => boolean, ms?: number): Promise<void> {
    const end = ms === undefined ? Infinity : Date.now() + ms;
    const timer = ms === undefined ? null : setTimeout(() => this.poke(), ms);
    while (!done() && Date.now() < end) await new Promise<void>((resolve) => (this.wake = resolve));
    if (timer !== null) clearTimeout(timer);
  }

  write(data: string): void {
    this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
