import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { UpstreamDispatcher } from './pool-registry';
import { MirrorRequest, type MirrorResponse } from './h1/mirror-request';

type Controller = Dispatcher.DispatchController;

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * A streamed request body as an HTTP/2 upload takes it: an async iterator
 * over the listener's Readable, never the Readable itself.
 *
 * undici pipes a stream body into the h2 stream with `pipeline()`, whose
 * end-of-stream watch destroys the h2 stream from inside its 'aborted'
 * event. undici's abort (client gone, body too large, timeout) emits that
 * event from `Http2Stream.close()`; the stream destroyed in the middle of
 * close() while a DATA write is still queued in nghttp2 sends Node 20's
 * http2 session into a native loop that grows memory until the process
 * dies (std::bad_alloc). undici writes an iterable with plain writes and no
 * pipeline, so close() completes and the queued write is dropped with the
 * stream.
 *
 * After the exchange failed, no further chunk is handed out: a write on the
 * closed h2 stream could wait for a 'drain' that never comes. A response
 * that completed before the upload did ends it (END_STREAM), so the stream
 * closes. The Readable stays the listener's to destroy.
 */
export class H2UploadBody implements AsyncIterableIterator<Buffer> {
  controller: Controller | null = null;
  private readonly source: AsyncIterator<Buffer>;
  private stopped: Error | null = null;
  private ended = false;
  private resolve: ((r: IteratorResult<Buffer>) => void) | null = null;
  private reject: ((err: unknown) => void) | null = null;
  private readonly onChunk = (r: IteratorResult<Buffer>): void => {
    const resolve = this.resolve;
    if (resolve === null) return;
    // A zero-length DATA write is never useful; skip it rather than hand it on.
    if (r.done !== true && r.value.length === 0) {
      this.pull();
      return;
    }
    this.resolve = null;
    this.reject = null;
    resolve(r);
  };
  private readonly onFail = (err: unknown): void => {
    const reject = this.reject;
    this.resolve = null;
    this.reject = null;
    if (reject !== null) reject(err);
  };

  constructor(private readonly readable: Readable) {
    // undici watches a stream body's errors itself, not an iterable's: one
    // that breaks before the upload starts (over the size limit while the
    // request waits for a stream) must neither go unhandled nor be missed.
    readable.on('error', (err: Error) => this.fail(err));
    this.source = readable[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    if (this.stopped !== null) return Promise.reject(this.stopped);
    if (this.ended) return Promise.resolve(DONE);
    return new Promise<IteratorResult<Buffer>>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.pull();
    });
  }

  /** The upload loop left early: the Readable is the listener's, it is not destroyed here. */
  return(): Promise<IteratorResult<Buffer>> {
    this.finish();
    return Promise.resolve(DONE);
  }

  /** No more chunks: a waiting `next()` fails with `reason`, so undici's upload loop ends. */
  stop(reason: Error): void {
    if (this.stopped !== null || this.ended) return;
    this.stopped = reason;
    this.onFail(reason);
  }

  /** The response is complete: the upload ends here, whatever of the body is left. */
  finish(): void {
    if (this.stopped !== null || this.ended) return;
    this.ended = true;
    const resolve = this.resolve;
    this.resolve = null;
    this.reject = null;
    if (resolve !== null) resolve(DONE);
  }

  private fail(err: Error): void {
    this.stop(err);
    const c = this.controller;
    if (c !== null && !c.aborted) c.abort(err);
  }

  private pull(): void {
    this.source.next().then(this.onChunk, this.onFail);
  }
}

/** Forwards to the exchange's handler and stops the upload once the exchange is over. */
class H2UploadHandler implements Dispatcher.DispatchHandler {
  constructor(
    private readonly inner: Dispatcher.DispatchHandler,
    private readonly body: H2UploadBody,
  ) {}

  onRequestStart(controller: Controller, context: unknown): void {
    this.body.controller = controller;
    this.inner.onRequestStart?.(controller, context);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: Record<string, string | string[] | undefined>): void {
    this.body.finish();
    this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, err: Error): void {
    this.body.stop(err);
    this.inner.onResponseError?.(controller, err);
  }
}

function isReadable(body: unknown): body is Readable {
  return typeof body === 'object' && body !== null && typeof (body as Readable).pipe === 'function' && typeof (body as Readable).on === 'function';
}

/** An undici pool speaking HTTP/2: streamed request bodies go out as H2UploadBody. */
export class H2Dispatcher implements UpstreamDispatcher {
  constructor(private readonly pool: UpstreamDispatcher) {}

  /** Only bodiless requests are resent (exchange.ts): no upload to wrap. */
  dispatchFresh(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.pool.dispatchFresh(opts, handler);
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const body = opts.body;
    if (!isReadable(body)) return this.pool.dispatch(opts, handler);
    const upload = new H2UploadBody(body);
    // undici takes any async iterable as a body; its types list only the common forms.
    return this.pool.dispatch({ ...opts, body: upload as unknown as Readable }, new H2UploadHandler(handler, upload));
  }

  /** The mirror's path: its copy's body goes out as any upload does. */
  request(opts: Dispatcher.RequestOptions): Promise<MirrorResponse> {
    const m = new MirrorRequest();
    this.dispatch(opts, m);
    return m.response;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
