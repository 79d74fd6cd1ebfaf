import type { ErrorCode } from '../shared/errors';
import { ERROR_STATUS, errorBody } from '../shared/errors';
import { HeaderList } from './headers';
import type { Readable } from 'node:stream';
import type { WsUpgrade } from './websocket/ws-upgrade';

/** Where a streamed response body goes: the listener's side of backpressure. */
export interface BodySink {
  /**
   * The sink copies whatever part of a chunk it keeps after `write` returns,
   * so it may be handed bytes that are only valid during the call (a piece
   * of an upstream connection's read buffer): no copy per chunk.
   */
  readonly borrows?: boolean;
  /** Writes one chunk; false means "stop until `resume` is called". */
  write(chunk: Buffer): boolean;
  end(): void;
  /** The upstream failed mid-body: close the client connection abortively, never as a clean end. */
  abort(): void;
}

/** A response body that is still arriving from an upstream. */
export interface StreamedBody {
  /** Content-Length announced by the upstream, or -1 when unknown (chunked). */
  readonly length: number;
  /**
   * Trailer fields to send after the body (flat [name, value, ...], lowercase
   * names, forbidden fields already dropped); read by the sink at `end`.
   * Absent or null: none.
   */
  readonly trailers?: string[] | null;
  pipeTo(sink: BodySink): void;
  /**
   * The whole body when all of it has arrived, with a known length and
   * nothing left to report (no failure, no trailers); null otherwise. It
   * stays valid until `pipeTo`: a listener that writes it with the head in
   * one call then pipes to a sink that drops what it is given. Optional:
   * absent means "always pipe".
   */
  wholeBody?(): Buffer | null;
  resume(): void;
  /** The client went away: stop the upstream exchange. */
  cancel(): void;
}

/** Told once a deferred body is ready: whole, streaming, or destroyed. */
export interface BodyWaiter {
  bodyReady(): void;
}

/**
 * A request body the engine has not made a stream of: most small bodies
 * arrive whole in one read and can go upstream as one buffer, behind the
 * head, with no stream machinery. Asking `RequestContext.body` turns it
 * into a stream.
 */
export interface DeferredBody {
  /** The whole body once it arrived in one piece before anyone asked for a stream, else null. */
  readonly whole: Buffer | null;
  readonly destroyed: boolean;
  /** False once bytes were read from the stream (a retried attempt could not send them again). */
  readonly sendable: boolean;
  /** Calls `waiter.bodyReady()` once `whole` is set, the body streams, or it was destroyed (now, if already so); a later waiter replaces an earlier one. */
  wait(waiter: BodyWaiter): void;
  /** The body as a stream, made once. */
  stream(): Readable;
  destroy(): void;
}

/** Where the client address comes from when the engine reads it only on demand. */
export interface RemoteAddressSource {
  /** The client address, '' once it can no longer be read (the client left, the response ended). */
  remoteAddress(): string;
}

/** Via entries, one per received protocol version: none is built per request. */
export const VIA_HTTP11 = '1.1 ngate';
export const VIA_HTTP10 = '1.0 ngate';
export const VIA_HTTP2 = '2 ngate';

/**
 * One request's state from the listener through the pipeline to the response.
 * Every field is set in the constructor (stable shape for the hot path);
 * `null` means "none".
 */
export class RequestContext {
  method: string;
  path: string;
  /** Raw query string without the `?`, '' when absent. */
  query: string;
  readonly headers: HeaderList;
  /** The client address once read ('' when unknown); null: not read yet, ask `remoteSource`. */
  private remote: string | null;
  /** Reads the address on demand (uWS: decoding it costs on every request, and few requests need it). */
  remoteSource: RemoteAddressSource | null = null;
  readonly scheme: 'http' | 'https';
  /** The request body as a stream once someone asked for it (see `body`). */
  private bodyStream: Readable | null;
  /** The body while nobody asked for a stream (uWS); null when none or already a stream. */
  deferredBody: DeferredBody | null = null;
  /** Announced request body length, -1 for chunked, 0 for none. */
  bodyLength: number;

  status = 0;
  readonly responseHeaders = new HeaderList();
  responseBody: string | Buffer | null = null;
  streamedBody: StreamedBody | null = null;
  errorCode: ErrorCode | null = null;
  /**
   * Headers to put on whatever response leaves, applied by the listener after
   * the pipeline (so they survive a Proxy filter replacing the response
   * headers): flat [name, value, ...], replacing same-named fields, except
   * `vary`, which is merged. null when none (the common case).
   */
  edgeHeaders: string[] | null = null;

  aborted = false;
  /** Set by whoever holds upstream resources that a client abort must release. */
  onAbort: (() => void) | null = null;
  readonly startTime: number;
  /** Upstream chosen by the Proxy filter (for logs and stats), '' when none. */
  upstream = '';
  /** Milliseconds from sending upstream to its response headers, -1 when none (access log). */
  upstreamMs = -1;
  /** Response body bytes written to the client: streamed ones as they go (access log), a whole body when written (stats). */
  bytesOut = 0;
  /** Request body bytes received from the client (stats). */
  bytesIn = 0;
  /** The request path before any route rewrite (access log). */
  readonly originalPath: string;
  /** The server's `xForwardedFor`: ngate sets X-Forwarded-For/-Proto/-Host upstream (false: passes them through). */
  xForwardedFor = true;
  /** The Via entry ngate adds upstream: the protocol version the request came in with (RFC 9110 §7.6.3). */
  via = VIA_HTTP11;
  /** Set when the request is a WebSocket upgrade: the Proxy filter opens the upstream WebSocket instead of forwarding. */
  websocket: WsUpgrade | null = null;

  constructor(
    method: string,
    path: string,
    query: string,
    headers: HeaderList,
    /** null: read on demand from `remoteSource`. */
    remoteAddress: string | null,
    scheme: 'http' | 'https',
    body: Readable | null,
    bodyLength: number,
    startTime: number,
  ) {
    this.method = method;
    this.path = path;
    this.originalPath = path;
    this.query = query;
    this.headers = headers;
    this.remote = remoteAddress;
    this.scheme = scheme;
    this.bodyStream = body;
    this.bodyLength = bodyLength;
    this.startTime = startTime;
  }

  /** Streamed request body, null when the request has none; a deferred body becomes a stream here. */
  get body(): Readable | null {
    if (this.bodyStream === null && this.deferredBody !== null) this.bodyStream = this.deferredBody.stream();
    return this.bodyStream;
  }

  set body(body: Readable | null) {
    this.bodyStream = body;
    this.deferredBody = null;
  }

  /** Whether the request has a body, without making a stream of a deferred one. */
  get hasBody(): boolean {
    return this.bodyStream !== null || this.deferredBody !== null;
  }

  /** The deferred body while nobody made a stream of it (the native upstream client sends it whole), else null. */
  get unstreamedBody(): DeferredBody | null {
    return this.bodyStream === null ? this.deferredBody : null;
  }

  get remoteAddress(): string {
    let remote = this.remote;
    if (remote === null) {
      remote = this.remoteSource === null ? '' : this.remoteSource.remoteAddress();
      this.remote = remote;
    }
    return remote;
  }

  /** Reads the address now, while the engine still can (for whoever needs it after the response, the access log). */
  pinRemoteAddress(): void {
    if (this.remote === null) this.remote = this.remoteAddress;
  }

  /**
   * Answers locally with an ngate error: status from the code, a one-line JSON
   * body. A response held so far is discarded (an upstream body still
   * streaming is cancelled, see discardResponse).
   */
  fail(code: ErrorCode, detail?: string): void {
    this.discardResponse();
    this.errorCode = code;
    this.status = ERROR_STATUS[code];
    this.responseHeaders.add('content-type', 'application/json');
    this.responseBody = errorBody(code, detail);
  }

  /**
   * Drops the response held so far (an upstream's, after a Proxy step) so a
   * filter can answer on its own: its headers and body go, and a body still
   * streaming is cancelled, which ends that upstream exchange and releases
   * its connection.
   */
  discardResponse(): void {
    const streamed = this.streamedBody;
    this.streamedBody = null;
    if (streamed !== null) streamed.cancel();
    this.responseHeaders.items.length = 0;
    this.responseBody = null;
  }

  applyEdgeHeaders(): void {
    const extra = this.edgeHeaders;
    if (extra === null) return;
    const h = this.responseHeaders;
    for (let i = 0; i < extra.length; i += 2) {
      const name = extra[i] as string;
      const value = extra[i + 1] as string;
      if (name !== 'vary') h.set(name, value);
      else h.addVary(value);
    }
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const onAbort = this.onAbort;
    this.onAbort = null;
    if (onAbort !== null) onAbort();
    const stream = this.bodyStream;
    if (stream !== null && !stream.destroyed) stream.destroy();
    if (this.deferredBody !== null && !this.deferredBody.destroyed) this.deferredBody.destroy();
  }
}
