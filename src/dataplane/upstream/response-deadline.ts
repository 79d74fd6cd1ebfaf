import type { Dispatcher } from 'undici';
import { MirrorRequest, type MirrorResponse } from './h1/mirror-request';
import type { UpstreamDispatcher } from './pool-registry';

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

function timeoutError(headSeen: boolean): Error {
  // The codes the native client uses too: both map to NGATE_ERR_UPSTREAM_TIMEOUT.
  return headSeen
    ? Object.assign(new Error('response timeout'), { code: 'UND_ERR_BODY_TIMEOUT' })
    : Object.assign(new Error('headers timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
}

/**
 * One request's whole-response deadline on an undici pool: from when undici
 * sends the request (onRequestStart) to the end of the response body. undici
 * only has gap timeouts (headersTimeout, bodyTimeout), so a body trickled
 * slower than those never ends; this aborts it. On HTTP/1.1 undici destroys
 * the socket, on h2 it resets the stream (the session serves the others).
 *
 * One timer per request, cleared when the response ends or fails. Node keeps
 * timers of one duration in one list behind one native timer, so arming and
 * clearing are O(1); the function and its argument are shared, no closure.
 */
class DeadlineHandler implements Dispatcher.DispatchHandler {
  private timer: NodeJS.Timeout | null = null;
  private controller: Controller | null = null;
  private headSeen = false;

  constructor(
    private readonly inner: Dispatcher.DispatchHandler,
    private readonly timeout: number,
  ) {}

  private static expire(this: void, h: DeadlineHandler): void {
    h.timer = null;
    const c = h.controller;
    if (c !== null && !c.aborted) c.abort(timeoutError(h.headSeen));
  }

  private clear(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.controller = controller;
    this.clear();
    this.timer = setTimeout(DeadlineHandler.expire, this.timeout, this);
    this.timer.unref();
    this.inner.onRequestStart?.(controller, context);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Headers, statusMessage?: string): void {
    if (statusCode >= 200) this.headSeen = true;
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: Headers): void {
    this.clear();
    this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, err: Error): void {
    this.clear();
    this.inner.onResponseError?.(controller, err);
  }
}

/** An undici pool (HTTP/1.1 or h2) whose `timeout` bounds the whole response, as the native client's does. */
export class DeadlineDispatcher implements UpstreamDispatcher {
  readonly failsOnClose: boolean;

  constructor(
    private readonly pool: UpstreamDispatcher,
    private readonly timeout: number,
  ) {
    this.failsOnClose = pool.failsOnClose === true;
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.pool.dispatch(opts, new DeadlineHandler(handler, this.timeout));
  }

  dispatchFresh(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.pool.dispatchFresh(opts, new DeadlineHandler(handler, this.timeout));
  }

  /** The mirror's path, under the same deadline: a copy trickled forever would hold its in-flight slot and connection. */
  request(opts: Dispatcher.RequestOptions): Promise<MirrorResponse> {
    const m = new MirrorRequest();
    this.dispatch(opts, m);
    return m.response;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
