import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Dispatcher } from 'undici';
import type { ConnectionObserver } from '../counting-connector';
import { H1Connection, Deadline, type ConnectionOwner } from './connection';
import { H1Request, type RequestOwner } from './request';
import { MirrorRequest, type MirrorResponse } from './mirror-request';

export interface H1PoolOptions {
  readonly connections: number;
  readonly connectTimeout: number;
  /** The whole response (head and body), from when the request went out. */
  readonly timeout: number;
  readonly keepAliveTimeout: number;
  /** TLS options for an https:// origin (host and port are added), null for http://. */
  readonly tls: ConnectionOptions | null;
  /** Told of every connection established and closed (the cluster's cx counters). */
  readonly observer?: ConnectionObserver;
  /** The monotonic clock (ms); performance.now unless a test drives time. */
  readonly clock?: () => number;
}

/**
 * The read buffer every plain upstream socket of this thread shares: a read
 * is parsed to its end before the next one can land, and whatever outlives
 * it (a partial head, body pieces) is copied out.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Requests waiting for a connection beyond this many fail instead of queueing without bound. */
const MAX_QUEUED = 65_536;

function closedError(): Error {
  return Object.assign(new Error('the pool is closed'), { code: 'UND_ERR_CLOSED' });
}

/**
 * A worker's keep-alive HTTP/1.1 connections to one origin: idle connections
 * on a LIFO stack (the warmest socket first), at most `connections` of them,
 * then a bounded FIFO of waiting requests. Timeouts are deadlines checked by
 * one coarse tick per pool instead of a timer per request.
 */
export class H1Pool implements ConnectionOwner, RequestOwner {
  readonly authority: string;
  readonly acceptsDeferredBody = true;
  now: number;
  readonly timeout: number;
  private readonly readClock: () => number;
  private readonly host: string;
  private readonly port: number;
  private readonly all = new Set<H1Connection>();
  private readonly idle: H1Connection[] = [];
  private queue: H1Request[] = [];
  private queueHead = 0;
  private ticker: NodeJS.Timeout | null = null;
  private readonly tickMs: number;
  private closing = false;
  private onDrained: (() => void) | null = null;
  private tlsSession: Buffer | undefined;

  constructor(
    origin: string,
    private readonly opts: H1PoolOptions,
  ) {
    const url = new URL(origin);
    this.authority = url.host;
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    this.timeout = opts.timeout;
    this.readClock = opts.clock ?? performance.now.bind(performance);
    this.now = this.readClock();
    // A response deadline is set by the first tick after the request went out, from that tick's
    // clock read: it fires up to two ticks after its time, never before.
    // `timeout: 0` has no response deadline, so it does not set the pace.
    const shortest = Math.min(opts.connectTimeout, opts.timeout === 0 ? Infinity : opts.timeout, opts.keepAliveTimeout);
    this.tickMs = Math.max(10, Math.min(250, Math.floor(shortest / 5)));
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const req = new H1Request(this, opts, handler);
    if (this.closing) {
      queueMicrotask(() => req.fail(closedError()));
      return false;
    }
    req.start();
    return true;
  }

  /**
   * A request on a connection opened for it, beyond the limit if need be (a
   * resend after a stale keep-alive socket: an idle or just-released one may
   * be as stale). The extra connection closes after its response.
   */
  dispatchFresh(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const req = new H1Request(this, opts, handler);
    req.fresh = true;
    if (this.closing) {
      queueMicrotask(() => req.fail(closedError()));
      return false;
    }
    req.start();
    return true;
  }

  /** The small request/response API the mirror uses; the body is only drained. */
  request(opts: Dispatcher.RequestOptions): Promise<MirrorResponse> {
    const m = new MirrorRequest();
    this.dispatch(opts, m);
    return m.response;
  }

  enqueue(req: H1Request): void {
    if (!req.active) return;
    if (req.fresh) {
      this.open().assign(req);
      return;
    }
    const idle = this.idle;
    while (idle.length > 0) {
      const conn = idle.pop() as H1Connection;
      if (conn.dead) continue;
      conn.assign(req);
      return;
    }
    if (this.all.size < this.opts.connections) {
      this.open().assign(req);
      return;
    }
    if (this.queue.length - this.queueHead >= MAX_QUEUED) {
      req.fail(Object.assign(new Error('too many requests waiting for an upstream connection'), { code: 'UND_ERR_POOL_FULL' }));
      return;
    }
    req.queued = true;
    this.queue.push(req);
  }

  release(conn: H1Connection, hintMs: number): void {
    // Over the limit (a fresh connection for a resend): this one goes.
    if (this.all.size > this.opts.connections) return conn.destroy();
    // A closing pool still serves the requests that queued before it closed, then lets its connections go.
    const next = this.nextQueued();
    if (next !== null) {
      conn.assign(next);
      return;
    }
    if (this.closing) return conn.destroy();
    const idleMs = hintMs < 0 ? this.opts.keepAliveTimeout : Math.min(hintMs, this.opts.keepAliveTimeout);
    if (idleMs <= 0) return conn.destroy();
    conn.deadlineKind = Deadline.Idle;
    // The coarse clock (no read per response): an idle socket may close a little early, the safe side of the upstream's own timeout.
    conn.deadline = this.now + idleMs;
    this.idle.push(conn);
  }

  closed(conn: H1Connection): void {
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    // A request that waited for a free slot gets a fresh connection (in a closing pool too: its queue is served to the end).
    if (this.all.size < this.opts.connections) {
      const next = this.nextQueued();
      if (next !== null) this.open().assign(next);
    }
    if (this.all.size === 0) {
      this.stopTicker();
      if (this.onDrained !== null) this.onDrained();
    }
  }

  /**
   * Graceful, as undici's close(): no new requests; the ones queued and
   * running complete. Idle connections close now, busy ones once the queue
   * is empty.
   */
  close(): Promise<void> {
    this.closing = true;
    for (const conn of this.idle.splice(0)) conn.destroy();
    if (this.all.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.onDrained = resolve));
  }

  private nextQueued(): H1Request | null {
    const q = this.queue;
    while (this.queueHead < q.length) {
      const req = q[this.queueHead] as H1Request;
      q[this.queueHead++] = undefined as unknown as H1Request;
      req.queued = false;
      if (req.active) {
        this.compact();
        return req;
      }
    }
    this.compact();
    return null;
  }

  private compact(): void {
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private open(): H1Connection {
    let socket: Socket;
    let event: 'connect' | 'secureConnect';
    const tls = this.opts.tls;
    let conn: H1Connection | null = null;
    if (tls === null) {
      // Reads land in one reused buffer and go straight to the parser: no Buffer and no stream push per read.
      const onread = { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array): boolean => conn?.onRead(buf as Buffer, n) ?? true };
      socket = netConnect({ host: this.host, port: this.port, onread });
      event = 'connect';
    } else {
      const options: ConnectionOptions = { ...tls, host: this.host, port: this.port, ALPNProtocols: ['http/1.1'] };
      if (this.tlsSession !== undefined) options.session = this.tlsSession;
      const s = tlsConnect(options);
      s.on('session', (session: Buffer) => (this.tlsSession = session));
      socket = s;
      event = 'secureConnect';
    }
    const observer = this.opts.observer;
    if (observer !== undefined) {
      socket.once(event, () => {
        observer.connected(false);
        socket.once('close', () => observer.disconnected());
      });
    }
    const created = new H1Connection(this, socket, this.opts.connectTimeout, event, tls === null);
    conn = created;
    this.all.add(created);
    this.startTicker();
    return created;
  }

  private startTicker(): void {
    if (this.ticker !== null) return;
    this.ticker = setInterval(() => this.tick(), this.tickMs);
    this.ticker.unref();
  }

  private stopTicker(): void {
    if (this.ticker === null) return;
    clearInterval(this.ticker);
    this.ticker = null;
  }

  clock(): number {
    return (this.now = this.readClock());
  }

  /** Expires the deadlines that passed; the ticker calls it (public for tests that drive the clock). */
  tick(): void {
    const now = this.clock();
    const timeout = this.timeout;
    for (const conn of this.all) {
      if (conn.rearm) {
        // What rearmed it happened before `now`: a deadline counted from `now` fires late, never early.
        conn.rearm = false;
        // `timeout: 0`: no whole-response limit (a long download, a stream); the connect deadline still applies.
        if (conn.deadlineKind === Deadline.Response) {
          if (timeout === 0) conn.deadlineKind = Deadline.None;
          else conn.deadline = now + timeout;
        }
      }
      if (conn.deadlineKind !== Deadline.None && conn.deadline <= now) conn.expire();
    }
  }
}
