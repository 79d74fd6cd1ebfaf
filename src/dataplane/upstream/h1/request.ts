import type { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { requestHead } from './serialize';
import type { H1Connection } from './connection';

/** Bodies with a known length up to this size are collected first and written with the head in one go. */
const SMALL_BODY = 64 * 1024;

const NO_TRAILERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;

export interface RequestOwner {
  /** The request is ready to go on a connection. */
  enqueue(req: H1Request): void;
  readonly authority: string;
}

/**
 * One request through the native pool; it is also the controller the
 * handler gets (abort, pause, resume), like undici's.
 */
export class H1Request implements Dispatcher.DispatchController {
  head = '';
  /** The whole body when known up front (collected or given), else null. */
  payload: Buffer | null = null;
  /** A body still to be streamed after the head (unknown or large length). */
  stream: Readable | null = null;
  /** The announced Content-Length of a streamed body, -1: sent chunked. */
  streamLength = -1;
  readonly bodyless: boolean;
  conn: H1Connection | null = null;
  /** Waiting in the pool's queue. */
  queued = false;
  private state = 0; // 0 active, 1 finished, 2 aborted
  private pausedFlag = false;
  private abortReason: Error | null = null;
  private parts: Buffer[] | null = null;
  private partsLength = 0;

  constructor(
    private readonly owner: RequestOwner,
    private readonly opts: Dispatcher.DispatchOptions,
    private readonly handler: Dispatcher.DispatchHandler,
  ) {
    this.bodyless = opts.method === 'HEAD';
  }

  get aborted(): boolean {
    return this.state === 2;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  get reason(): Error | null {
    return this.abortReason;
  }

  get active(): boolean {
    return this.state === 0;
  }

  /** Builds the head, starts the handler, and either queues the request or first collects a small body. */
  start(): void {
    this.handler.onRequestStart?.(this, {});
    if (this.state !== 0) return;
    const body = this.opts.body;
    try {
      if (body == null) this.head = requestHead(this.opts, this.owner.authority, -2).text;
      else if (typeof body === 'string' || body instanceof Uint8Array) {
        this.payload = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : Buffer.from(body);
        this.head = requestHead(this.opts, this.owner.authority, this.payload.length).text;
      } else {
        const head = requestHead(this.opts, this.owner.authority, -1);
        this.head = head.text;
        this.streamLength = head.length;
        const stream = body as Readable;
        if (head.length >= 0 && head.length <= SMALL_BODY) return this.collect(stream, head.length);
        this.stream = stream;
      }
    } catch (err) {
      return this.fail(err as Error);
    }
    this.owner.enqueue(this);
  }

  private collect(stream: Readable, length: number): void {
    if (length === 0) {
      this.payload = Buffer.alloc(0);
      this.owner.enqueue(this);
      return;
    }
    this.parts = [];
    stream.on('data', (chunk: Buffer) => {
      if (this.parts === null) return;
      this.parts.push(chunk);
      this.partsLength += chunk.length;
    });
    stream.once('end', () => {
      const parts = this.parts;
      if (parts === null || this.state !== 0) return;
      this.parts = null;
      if (this.partsLength !== length) {
        this.fail(Object.assign(new Error('request body length does not match content-length'), { code: 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' }));
        return;
      }
      this.payload = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
      this.owner.enqueue(this);
    });
    stream.once('error', (err: Error) => {
      this.parts = null;
      this.fail(err);
    });
    stream.once('close', () => {
      if (this.parts !== null) {
        this.parts = null;
        this.fail(Object.assign(new Error('request body closed early'), { code: 'UND_ERR_SOCKET' }));
      }
    });
  }

  abort(reason: Error): void {
    if (this.state !== 0) return;
    this.state = 2;
    this.abortReason = reason;
    this.parts = null;
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) conn.destroy();
    this.stream?.destroy();
    this.handler.onResponseError?.(this, reason);
  }

  pause(): void {
    if (this.pausedFlag) return;
    this.pausedFlag = true;
    this.conn?.pause();
  }

  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    this.conn?.resume();
  }

  /** The request failed (connection error, timeout, bad response): the handler hears it once. */
  fail(err: Error): void {
    if (this.state !== 0) return;
    this.state = 2;
    this.parts = null;
    this.conn = null;
    this.handler.onResponseError?.(this, err);
  }

  onHead(status: number, reason: string, flat: string[]): void {
    const headers: Record<string, string | string[]> = {};
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i] as string;
      const value = flat[i + 1] as string;
      const prev = headers[name];
      if (prev === undefined) headers[name] = value;
      else if (typeof prev === 'string') headers[name] = [prev, value];
      else prev.push(value);
    }
    this.handler.onResponseStart?.(this, status, headers as IncomingHttpHeaders, reason);
  }

  onData(chunk: Buffer): void {
    this.handler.onResponseData?.(this, chunk);
  }

  finish(): void {
    if (this.state !== 0) return;
    this.state = 1;
    this.conn = null;
    this.handler.onResponseEnd?.(this, NO_TRAILERS);
  }
}
