import type { ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type * as net from 'node:net';
import type { Readable } from 'node:stream';
import type { RequestContext, StreamedBody } from '../context';
import type { RuntimeHolder } from '../runtime';
import { Exchange } from './exchange';
import { CHUNKED } from './framing';
import { NodeBodySink } from './node-body-sink';
import { nodeRequestBody, type BodyDiscarder } from './node-request-body';
import { NULL_SINK } from './request-core';
import { LINGER_AFTER, LINGER_CLOSE, type Linger } from './linger';
import { lingeringClose } from './lingering-close';


/**
 * Drops a body already written whole. It does not borrow: node may keep
 * `whole` after `end` (a pipelined response waits for the one before it,
 * a busy socket buffers), so the memory holding it must not serve another
 * response (see held-bytes.ts).
 */
const KEEPING_NULL_SINK = { write: (): boolean => true, end: (): void => undefined, abort: (): void => undefined };

export type NodeResponse = ServerResponse | Http2ServerResponse;

/** Connection-level fields HTTP/2 forbids (node throws on them). */
const H2_FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

/** Sockets whose remaining bytes cannot be trusted: requests pipelined behind a refusal are never dispatched. */
export const poisoned = new WeakSet<object>();

/** A request on the node engine (HTTP/1.x through node:http, h2/h2c through node:http2's compat API). */
export class NodeExchange extends Exchange implements BodyDiscarder {
  discardBody: (() => void) | null = null;

  constructor(
    readonly req: Readable & { socket: object; httpVersionMajor: number; httpVersionMinor: number },
    readonly res: NodeResponse,
    ctx: RequestContext,
    holder: RuntimeHolder,
  ) {
    super(ctx, holder);
  }

  /** The response is over: a request body still arriving is read to its end and dropped, so the connection serves the next request. */
  override finish(): void {
    if (this.finished) return;
    super.finish();
    if (!this.bodyComplete && this.discardBody !== null) this.discardBody();
  }

  /** node:http parses the next request only after this one's body: the answer goes now, `finish` drops the rest. */
  override lingerBody(): Linger {
    return this.discardBody !== null ? LINGER_AFTER : LINGER_CLOSE;
  }

  /** The response closed: before its end means the client went away. */
  readonly onClose = (): void => {
    if (!this.res.writableFinished) this.ctx.abort();
    this.finish();
  };

  /**
   * The request closed. A response node:http has not attached to the socket
   * yet (a pipelined request queued behind another) never emits 'close' when
   * the client leaves: the request's close on a dead socket is the only sign.
   */
  readonly onRequestClose = (): void => {
    const socket = this.req.socket as { destroyed?: boolean } | null;
    if (!this.res.writableFinished && (socket === null || socket.destroyed === true)) this.onClose();
  };

  /** HTTP/2 frames bodies with DATA frames: no Content-Length means a body of unknown length unless the stream ended with its headers. */
  override protocol(): string {
    return `HTTP/${this.req.httpVersionMajor}.${this.req.httpVersionMinor}`;
  }

  override requiresHost(): boolean {
    return this.req.httpVersionMajor === 1 && this.req.httpVersionMinor >= 1;
  }

  override bodyFraming(): number | string {
    if (this.req.httpVersionMajor !== 2 || this.ctx.headers.get('content-length') !== undefined) return super.bodyFraming();
    return (this.req as unknown as Http2ServerRequest).stream.endAfterHeaders ? 0 : CHUNKED;
  }

  /** node:http may have parsed what follows already: those requests are dropped, the connection closes. */
  override poison(): void {
    if (this.req.httpVersionMajor === 1) poisoned.add(this.req.socket);
  }

  /** The connection ends with a lingering close (lingering-close.ts), and nothing pipelined behind this request is dispatched. */
  private lingerOnClose(): void {
    const socket = this.req.socket as net.Socket;
    this.poison();
    socket.destroySoon = (): void => lingeringClose(socket);
  }

  readBody(limit: number): Readable {
    return nodeRequestBody(this.req, this.ctx, limit, this);
  }

  /** node:http has already parsed what follows: mark the socket so those requests are dropped, answer now, close. */
  refuse(respond: (ex: Exchange) => void): void {
    this.poison();
    respond(this);
  }

  write(status: number, noBody: boolean, close: boolean): void {
    const { ctx, res } = this;
    const streamed = ctx.streamedBody;
    const body = streamed === null ? (ctx.responseBody ?? '') : null;
    const length = streamed !== null ? streamed.length : Buffer.byteLength(body as string | Buffer);
    const h2 = this.req.httpVersionMajor === 2;
    const items = ctx.responseHeaders.items;
    try {
      if (h2) {
        const out: Record<string, string | string[]> = {};
        for (let i = 0; i < items.length; i += 2) {
          const name = (items[i] as string).toLowerCase();
          if (H2_FORBIDDEN.has(name) || name === 'content-length') continue;
          const prev = out[name];
          const value = items[i + 1] as string;
          out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
        }
        if (length >= 0 && status !== 204 && status !== 304) out['content-length'] = String(length);
        (res as Http2ServerResponse).writeHead(status, out);
      } else {
        const out: string[] = [];
        for (let i = 0; i < items.length; i += 2) {
          const name = items[i] as string;
          if (name.toLowerCase() === 'content-length') continue;
          out.push(name, items[i + 1] as string);
        }
        if (length >= 0 && status !== 204 && status !== 304) out.push('content-length', String(length));
        if (close) out.push('connection', 'close');
        (res as ServerResponse).writeHead(status, out);
        // node:http ends a closing connection with destroySoon once the answer is written; with an upload still
        // arriving that close would reset the connection and cost the client the answer it has not read yet.
        if ((close || this.clientClose) && !this.bodyComplete) this.lingerOnClose();
      }
    } catch (err) {
      // A header node refuses to send (invalid characters): the response cannot be trusted.
      process.emitWarning(`ngate: response headers refused by node: ${(err as Error).message}`);
      streamed?.cancel();
      res.destroy();
      this.finish();
      return;
    }
    // An upstream body that already arrived whole goes out with the head in one write.
    const whole = streamed !== null && !noBody && streamed.wholeBody !== undefined ? streamed.wholeBody() : null;
    if (whole !== null) {
      ctx.bytesOut = whole.length;
      res.end(whole);
      (streamed as StreamedBody).pipeTo(KEEPING_NULL_SINK);
      this.finish();
      return;
    }
    if (streamed !== null) {
      if (noBody) {
        res.end();
        this.finish();
        streamed.pipeTo(NULL_SINK);
      } else {
        streamed.pipeTo(new NodeBodySink(res, ctx, streamed, () => this.finish()));
      }
      return;
    }
    if (noBody) res.end();
    else {
      ctx.bytesOut = length;
      res.end(body as string | Buffer);
    }
    this.finish();
  }
}
