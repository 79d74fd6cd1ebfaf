import { RequestContext, type RemoteAddressSource, type StreamedBody } from '../context';
import { HeaderList } from '../headers';
import type { RuntimeHolder } from '../runtime';
import { Exchange } from './exchange';
import type { Listener } from './listener';
import { NULL_SINK, RequestCore } from './request-core';
import { UwsRequestBody } from './request-body';
import { headLength, statusLine } from './status-line';
import type { UwsHttpRequest, UwsHttpResponse, UwsListenSocket, UwsModule } from './uws-api';
import { CLOSE_HOLD_MAX, UwsBodySink } from './uws-body-sink';
import type { ServerTls } from '../../config/tls-material';
import { createApp } from './tls-app';
import { LINGER_CLOSE, LINGER_WAIT, type Linger } from './linger';
import { websocketBehavior } from '../websocket/behavior';

const decoder = new TextDecoder();

/** uWS gives the method lowercased; the common ones map to constants instead of a new string each. */
const UPPER_METHODS = new Map(['get', 'post', 'put', 'delete', 'head', 'options', 'patch'].map((m) => [m, m.toUpperCase()]));
function upperMethod(lower: string): string {
  return UPPER_METHODS.get(lower) ?? lower.toUpperCase();
}

/**
 * uWS closes the connection after the response by itself when the request's
 * (first) Connection value is 5 characters long (`close`, any case; measured).
 */
function uwsClosesItself(items: string[]): boolean {
  for (let i = 0; i < items.length; i += 2) if (items[i] === 'connection') return (items[i + 1] as string).length === 5;
  return false;
}

/**
 * A header value as its bytes: values hold one character per byte (as node's http
 * writes them, latin1), so the rare one with obs-text goes out as a latin1 buffer
 * (uWS writes a string as UTF-8, which would turn each byte above 0x7F into two).
 * A loop rather than a regex: values are short and this runs for every header.
 */
function headerValue(value: string): string | Buffer {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return Buffer.from(value, 'latin1');
  return value;
}

const CLOSE_NONE = 0;
const CLOSE_SCHEDULED = 1;
const CLOSE_DONE = 2;

/** A request on the uWS engine: writes go through `cork`. */
export class UwsExchange extends Exchange implements RemoteAddressSource {
  /** Reading paused while the response is pending (see `holdPipelined`). */
  paused = false;
  /** Where a bodyless answer that ends its connection stands (`writeBodylessClose`). */
  closing = CLOSE_NONE;

  constructor(
    readonly res: UwsHttpResponse,
    ctx: RequestContext,
    holder: RuntimeHolder,
    /** HTTPServer `pipelining: hold`. */
    private readonly hold: boolean,
  ) {
    super(ctx, holder);
    ctx.remoteSource = this;
  }

  /** uWS's onAborted handler: the one closure a request needs. */
  readonly aborted = (): void => {
    // The answer was complete: the close was ours (or uWS's, for bytes that arrived before it).
    if (this.closing !== CLOSE_NONE) {
      this.closing = CLOSE_DONE;
      return;
    }
    this.ctx.abort();
    this.finish();
  };

  /** uWS forbids touching `res` once the client left or the response ended. */
  remoteAddress(): string {
    return this.ctx.aborted || this.finished ? '' : decoder.decode(this.res.getRemoteAddressAsText());
  }

  /**
   * uWS closes a connection when a request arrives while an earlier response
   * is pending, losing that response. Not reading the socket until the
   * response ends makes a pipelined request that arrives in a later TCP read
   * wait in the kernel instead; it is served after the first one. The price:
   * uWS does not report a client that leaves while it is not read, so the
   * upstream request runs until its response (or timeout) is written.
   */
  holdPipelined(): void {
    if (!this.hold || this.finished || this.ctx.aborted || this.paused) return;
    this.paused = true;
    this.res.pause();
  }

  /** Called inside `cork` just before the write that completes the response. */
  releasePipelined(): void {
    if (!this.paused) return;
    this.paused = false;
    this.res.resume();
  }

  /** uWS closes a connection whose body was not read when the answer ends: the rest is read and dropped before answering. */
  override lingerBody(respond: (ex: Exchange) => void): Linger {
    const body = this.ctx.unstreamedBody;
    return body instanceof UwsRequestBody && body.discard(respond) ? LINGER_WAIT : LINGER_CLOSE;
  }

  readBody(limit: number): UwsRequestBody {
    return new UwsRequestBody(this.res, this.ctx, limit, this);
  }

  /**
   * Deferred on purpose: uWS parses bytes pipelined behind this request as
   * soon as the handler returns and, while a response is pending, closes the
   * connection instead of dispatching them. A synchronous answer would let a
   * smuggled request through.
   */
  refuse(respond: (ex: Exchange) => void): void {
    setImmediate(respond, this);
  }

  write(status: number, noBody: boolean, close: boolean): void {
    const { ctx, res } = this;
    const streamed = ctx.streamedBody;
    const closesItself = close && uwsClosesItself(ctx.headers.items);
    if (noBody && close && !closesItself) {
      this.writeBodylessClose(status);
      return;
    }
    // An upstream body that already arrived whole goes out as a local one does, in the call that ends the response.
    const whole = streamed !== null && !noBody && streamed.wholeBody !== undefined ? streamed.wholeBody() : null;
    const piped = whole === null ? streamed : null;
    // A streamed body that must end its connection is held and sent with end(body, true) (uws-body-sink.ts).
    const hold = close && piped !== null && !noBody && piped.length > 0 && piped.length <= CLOSE_HOLD_MAX && !closesItself;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      const h = ctx.responseHeaders.items;
      for (let i = 0; i < h.length; i += 2) res.writeHeader(h[i] as string, headerValue(h[i + 1] as string));
      // uWS adds it itself for end(body, true); a streamed answer, or a bodyless one to a client that said close, needs it spelled out.
      if (close && !hold && (piped !== null || noBody)) res.writeHeader('connection', 'close');
      if (piped !== null) {
        if (noBody) {
          this.releasePipelined();
          if (headLength(ctx.method, status) && piped.length >= 0) res.writeHeader('content-length', String(piped.length));
          // Only the argument-less form is safe in uWS: with a length it leaves the response open.
          res.endWithoutBody();
          this.finish();
          piped.pipeTo(NULL_SINK);
        } else {
          piped.pipeTo(new UwsBodySink(res, ctx, piped, this, hold));
        }
        return;
      }
      const body = whole ?? ctx.responseBody ?? '';
      this.releasePipelined();
      if (noBody) {
        if (headLength(ctx.method, status)) res.writeHeader('content-length', String(Buffer.byteLength(body)));
        res.endWithoutBody();
      } else {
        ctx.bytesOut = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
        res.end(body, close);
      }
      // uWS copied the bytes: the exchange may reuse the memory that held them.
      if (whole !== null) (streamed as StreamedBody).pipeTo(NULL_SINK);
      this.finish();
    });
  }

  /**
   * A bodyless answer (HEAD, 204, 304) that ends a connection the client did
   * not ask to end. uWS only closes after an answer when told so by
   * `end`/`endWithoutBody(length, true)`, and those write `Content-Length`
   * (`endWithoutBody()` without arguments neither writes it nor closes; a
   * length above 0 leaves the response open). So (measured):
   * - HEAD with length 0: `endWithoutBody(0, true)`, uWS closes by itself;
   * - HEAD with a length: `tryEnd('', length)` writes the head with that
   *   `Content-Length` and leaves the response open, then `close()`;
   * - no length (204, 304, HEAD of unknown length): the head ends with our own
   *   Date field (uWS adds its fields only when ending), then `close()`.
   * `close()` waits for the next turn: inside the request handler or a body
   * callback uWS holds the written bytes in its cork buffer, which a close
   * there drops. The open response meanwhile keeps uWS from dispatching
   * anything behind this request (it closes the connection instead).
   * Known limit: bytes of an EARLIER response still in uWS's own buffer (a
   * client that stopped reading) are dropped by `close()`; this build reports
   * no buffered amount for an HTTP response to wait on.
   */
  private writeBodylessClose(status: number): void {
    const { ctx, res } = this;
    const streamed = ctx.streamedBody;
    let length = -1;
    if (headLength(ctx.method, status)) length = streamed !== null ? streamed.length : Buffer.byteLength(ctx.responseBody ?? '');
    res.cork(() => {
      res.writeStatus(statusLine(status));
      const h = ctx.responseHeaders.items;
      for (let i = 0; i < h.length; i += 2) res.writeHeader(h[i] as string, headerValue(h[i + 1] as string));
      this.releasePipelined();
      if (length === 0) {
        res.endWithoutBody(0, true);
        return;
      }
      res.writeHeader('connection', 'close');
      if (length > 0) res.tryEnd('', length);
      else res.writeHeader('date', `${new Date().toUTCString()}\r\n`);
      this.closing = CLOSE_SCHEDULED;
      setImmediate(closeNow, this);
    });
    this.finish();
    if (streamed !== null) streamed.pipeTo(NULL_SINK);
  }

  /** Ends the connection of a `writeBodylessClose` answer, unless uWS already did. */
  closeScheduled(): void {
    if (this.closing !== CLOSE_SCHEDULED) return;
    this.closing = CLOSE_DONE;
    this.res.close();
  }
}

function closeNow(ex: UwsExchange): void {
  ex.closeScheduled();
}

/**
 * One HTTPServer's listener on the uWebSockets.js engine, in one worker.
 * The handler copies what it needs out of the uWS request synchronously,
 * attaches `onAborted` before anything can await, and reads the current
 * runtime once.
 */
export class UwsListener implements Listener {
  private socket: UwsListenSocket | null = null;
  private readonly core: RequestCore;
  private readonly scheme: 'http' | 'https';
  /** The header list `collect` fills: req.forEach runs synchronously inside `handle`, so no closure per request. */
  private collecting: string[] = [];
  private readonly collect = (name: string, value: string): void => {
    this.collecting.push(name, value);
  };

  constructor(
    private readonly uws: UwsModule,
    readonly serverName: string,
    readonly address: string,
    readonly port: number,
    private readonly holder: RuntimeHolder,
    private readonly holdPipelined: boolean,
    /** Certificates for an HTTPS listener; a change of material means a new listener. */
    readonly tls: ServerTls | null = null,
  ) {
    this.core = new RequestCore(serverName);
    this.scheme = tls === null ? 'http' : 'https';
  }

  listen(): Promise<void> {
    let app;
    // Upgrade requests (GET with Sec-WebSocket-Key) go to `ws`; uWS yields every other request to `any`.
    const behavior = websocketBehavior(this.core, this.holder, this.scheme);
    try {
      app = createApp(this.uws, this.tls, (a) => a.any('/*', (res, req) => this.handle(res, req)).ws('/*', behavior));
    } catch (err) {
      return Promise.reject(new Error(`cannot set up TLS for HTTPServer/${this.serverName}: ${(err as Error).message}`));
    }
    return new Promise((resolve, reject) => {
      app.listen(this.address, this.port, (socket) => {
        // uWS reports no errno: name the usual causes.
        if (socket === false) reject(new Error(`cannot listen on ${this.address}:${this.port} for HTTPServer/${this.serverName} (the port is held by a socket that does not share it, or the address is not on this host)`));
        else {
          this.socket = socket;
          resolve();
        }
      });
    });
  }

  /** Stops accepting; open connections finish their requests. */
  close(): void {
    if (this.socket !== null) this.uws.us_listen_socket_close(this.socket);
    this.socket = null;
  }

  private handle(res: UwsHttpResponse, req: UwsHttpRequest): void {
    const items: string[] = [];
    this.collecting = items;
    req.forEach(this.collect);
    const ctx = new RequestContext(
      upperMethod(req.getMethod()),
      req.getUrl(),
      req.getQuery() ?? '',
      new HeaderList(items),
      null,
      this.scheme,
      null,
      0,
      performance.now(),
    );
    const ex = new UwsExchange(res, ctx, this.holder, this.holdPipelined);
    res.onAborted(ex.aborted);
    this.core.handle(ex, ex.runtime);
    if (ex.bodyComplete) ex.holdPipelined();
  }
}
