import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { ResponseParser, type ResponseSink } from './parser';
import type { H1Request } from './request';
import { handshakeError, isHandshakeAlert } from '../tls-handshake';

/** What a connection needs from its pool. */
export interface ConnectionOwner {
  /** Coarse clock (ms), advanced by the pool's tick: it lags, so only for deadlines that may fire early (idle). */
  readonly now: number;
  /** Reads the clock (and advances `now`): a deadline set from it fires late, never early. */
  clock(): number;
  readonly timeout: number;
  /** host:port of the upstream, for error details. */
  readonly authority: string;
  release(conn: H1Connection, idleMs: number): void;
  closed(conn: H1Connection): void;
}

/** Bodies up to this size are copied behind the head into one buffer. */
const ONE_WRITE = 16 * 1024;

/** The head and a body chunk as one buffer: one write instead of a writev of two. */
function withHead(head: string, chunk: Buffer): Buffer {
  if (chunk.length > ONE_WRITE) return Buffer.concat([Buffer.from(head, 'latin1'), chunk]);
  const headLength = Buffer.byteLength(head, 'latin1');
  const out = Buffer.allocUnsafe(headLength + chunk.length);
  out.write(head, 0, 'latin1');
  chunk.copy(out, headLength);
  return out;
}

function socketError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

export const enum Deadline {
  None,
  Connect,
  Response,
  Idle,
}

/**
 * One keep-alive connection to an upstream: carries one request at a time,
 * parses its response incrementally and hands it to the request's handler.
 * A connection is reused only after a response that was complete, exact
 * (no stray bytes) and allowed keep-alive.
 */
export class H1Connection implements ResponseSink {
  private readonly parser = new ResponseParser(this);
  req: H1Request | null = null;
  connected = false;
  dead = false;
  /** When the current deadline expires (owner's clock) and what it guards. */
  deadline = 0;
  deadlineKind = Deadline.None;
  /**
   * The response deadline is due to be set by the pool's next tick, from its own clock read (so
   * no earlier than the event): a request went out, a piece of its body did, or its last byte did.
   * While the body uploads the deadline is a gap (each piece sent restarts it, nginx's
   * proxy_send_timeout); from the last byte it covers the whole response (head and body, as
   * Envoy's route timeout, which starts once the request is complete): neither response body
   * bytes nor a pause move it. No clock read per request or read, and the deadline fires late
   * (by up to two ticks), never early.
   */
  rearm = false;
  private error: Error | null = null;
  /** A response head arrived on this connection: a TLS alert after it is no handshake failure. */
  private answered = false;
  /** The request body is still being written. */
  private sending: Readable | null = null;

  constructor(
    private readonly owner: ConnectionOwner,
    readonly socket: Socket,
    connectTimeout: number,
    connectEvent: 'connect' | 'secureConnect',
    /** Reads arrive through `onRead` in a shared buffer (net `onread`) rather than as 'data' events. */
    private readonly borrowed = false,
  ) {
    socket.setNoDelay(true);
    this.deadline = owner.clock() + connectTimeout;
    this.deadlineKind = Deadline.Connect;
    socket.once(connectEvent, () => {
      this.connected = true;
      socket.setKeepAlive(true, 60_000);
      if (this.deadlineKind === Deadline.Connect) this.deadlineKind = this.req === null ? Deadline.None : Deadline.Response;
      this.rearm = true;
      const req = this.req;
      if (req !== null && req.stream !== null) this.streamBody(req, req.stream);
    });
    if (!borrowed) socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEndOfStream());
    socket.on('error', (err: Error) => {
      // A TLS handshake that failed (on either side) is a connect failure, not a reset.
      const handshake = connectEvent === 'secureConnect' && (!this.connected || (!this.answered && isHandshakeAlert(err)));
      this.error ??= handshake ? handshakeError(err, owner.authority) : err;
    });
    socket.on('close', () => this.onClose());
  }

  /** Writes the request; the head and a known body go out in one write. */
  assign(req: H1Request): void {
    this.req = req;
    req.conn = this;
    this.parser.start(req.bodyless);
    if (this.connected) {
      this.deadlineKind = Deadline.Response;
      this.rearm = true;
    }
    if (req.paused) this.pause();
    const deferred = req.deferred;
    if (deferred !== null) deferred.wait(req);
    else this.sendBody(req);
  }

  /** Sends the head and the body once the request knows it (at once, or when a deferred body is ready). */
  sendBody(req: H1Request): void {
    if (this.req !== req) return;
    const stream = req.stream;
    if (stream !== null) {
      // The body is read only once the connection stands: after a connect failure the stream is
      // untouched and a retry can still send it. The head goes out with the first body bytes.
      if (this.connected) this.streamBody(req, stream);
      return;
    }
    this.sendWhole(req);
  }

  /** The head and a body known whole (or none) in one write; the response deadline starts (a deferred body may have waited). */
  private sendWhole(req: H1Request): void {
    const payload = req.payload;
    if (payload !== null && payload.length > 0) this.socket.write(withHead(req.head, payload));
    else this.socket.write(req.head, 'latin1');
    this.rearm = true;
  }

  /** Fails the current request (its body could not be sent) and discards the connection. */
  failCurrent(err: Error): void {
    this.failRequest(err);
  }

  private streamBody(req: H1Request, body: Readable): void {
    const socket = this.socket;
    const chunked = req.streamLength === -1;
    let sent = 0;
    let head: string | null = req.head;
    this.sending = body;
    const cleanup = (): void => {
      body.off('readable', onReadable);
      body.off('end', onEnd);
      body.off('error', onError);
      socket.off('drain', onReadable);
      if (this.sending === body) this.sending = null;
    };
    const send = (chunk: Buffer): boolean => {
      sent += chunk.length;
      if (!chunked && sent > req.streamLength) {
        cleanup();
        this.failRequest(socketError('request body longer than content-length', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH'));
        return false;
      }
      let ok: boolean;
      if (chunked) {
        socket.cork();
        socket.write(`${head ?? ''}${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        ok = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else ok = socket.write(head === null ? chunk : withHead(head, chunk));
      head = null;
      // Upload progress: the deadline counts from here (a slow upload is no stalled upstream).
      this.rearm = true;
      return ok;
    };
    let waited = false;
    const onReadable = (): void => {
      if (this.req !== req) return cleanup();
      if (head !== null && !waited) {
        // The engine may deliver the last bytes of a small body in a later callback of the same
        // read: wait for the end of this I/O turn, so a body that arrived whole goes in one write.
        waited = true;
        setImmediate(onReadable);
        return;
      }
      if (head !== null) {
        let whole: boolean;
        try {
          whole = req.takeBuffered();
        } catch (err) {
          cleanup();
          return this.failRequest(err as Error);
        }
        if (whole) {
          cleanup();
          this.sendWhole(req);
          return;
        }
      }
      let chunk: Buffer | null;
      while ((chunk = body.read() as Buffer | null) !== null) if (!send(chunk)) return; // 'drain' reads on
    };
    const onEnd = (): void => {
      cleanup();
      if (this.req !== req) return;
      if (!chunked && sent !== req.streamLength) {
        return this.failRequest(socketError('request body length does not match content-length', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH'));
      }
      if (chunked) socket.write(`${head ?? ''}0\r\n\r\n`, 'latin1');
      else if (head !== null) socket.write(head, 'latin1');
      // The request is complete upstream: the whole-response deadline starts now.
      this.rearm = true;
    };
    const onError = (err: Error): void => {
      cleanup();
      if (this.req === req) this.failRequest(err);
    };
    body.on('readable', onReadable);
    body.once('end', onEnd);
    body.once('error', onError);
    socket.on('drain', onReadable);
  }

  /** A slow client pauses the response; its deadline keeps running (the whole response must arrive in time). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.req = null;
    if (!this.dead) {
      this.dead = true;
      this.socket.destroy();
    }
  }

  /** The pool's tick found the deadline passed. */
  expire(): void {
    const kind = this.deadlineKind;
    this.deadlineKind = Deadline.None;
    if (kind === Deadline.Idle) return this.destroy();
    if (kind === Deadline.Connect) return this.failRequest(socketError('connect timeout', 'UND_ERR_CONNECT_TIMEOUT'));
    if (kind === Deadline.Response) {
      if (this.parser.inHead) this.failRequest(socketError('headers timeout', 'UND_ERR_HEADERS_TIMEOUT'));
      // After the head: the body did not end in time; the client sees the response cut off.
      else this.failRequest(socketError('response timeout', 'UND_ERR_BODY_TIMEOUT'));
    }
  }

  /** Fails the current request and discards the connection. */
  private failRequest(err: Error): void {
    const req = this.req;
    this.destroy();
    if (req !== null) req.fail(err);
  }

  /** `n` bytes read into the shared buffer; pausing goes through `pause()`, never the return value. */
  onRead(buf: Buffer, n: number): boolean {
    this.onData(buf.subarray(0, n));
    return true;
  }

  private onData(chunk: Buffer): void {
    const req = this.req;
    if (req === null) return this.destroy(); // bytes nobody asked for
    try {
      this.parser.execute(chunk);
    } catch (err) {
      this.failRequest(err as Error);
    }
  }

  onHead(status: number, reason: string, headers: string[]): void {
    this.answered = true;
    this.req?.onHead(status, reason, headers);
  }

  onBody(chunk: Buffer): void {
    // A piece of the shared read buffer is overwritten by the next read: the request copies it unless its handler copies what it keeps.
    this.req?.onData(chunk, this.borrowed);
  }

  onEnd(extra: boolean): void {
    const req = this.req;
    if (req === null) return;
    this.req = null;
    // Taken before the release: a queued request may start on this connection and reset the parser.
    const trailers = this.parser.trailers;
    const reusable = !extra && this.parser.keepAlive && this.sending === null && !this.dead;
    this.deadlineKind = Deadline.None;
    if (reusable) {
      if (req.paused) this.socket.resume();
      const hint = this.parser.keepAliveHint;
      this.owner.release(this, hint > 0 ? hint * 1000 - 1000 : -1);
    } else this.destroy();
    req.finish(trailers);
  }

  private onEndOfStream(): void {
    // A close-delimited body ends here; anything else was cut off.
    if (this.req !== null && this.parser.untilClose) this.onEnd(false);
    if (this.req !== null) this.failRequest(this.error ?? socketError('other side closed', 'UND_ERR_SOCKET'));
    else this.destroy();
  }

  private onClose(): void {
    this.dead = true;
    const req = this.req;
    this.req = null;
    this.owner.closed(this);
    if (req === null) return;
    const err = this.error ?? socketError('other side closed', 'UND_ERR_SOCKET');
    req.fail(err);
  }
}
