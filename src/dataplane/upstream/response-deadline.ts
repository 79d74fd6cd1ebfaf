import { util, type Dispatcher } from 'undici';
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

const kResume = Symbol('resume');

/** What the handler gets as undici's controller (undici's UnwrapController, which is not exported). */
class DeadlineController implements Controller {
  private pausedFlag = false;
  private abortedFlag = false;
  private abortReason: Error | null = null;
  [kResume]: (() => void) | null = null;
  /** The raw head and trailers, as undici's controller has them (h2 trailers come only here, see exchange.ts). */
  rawHeaders: Controller['rawHeaders'] = null;
  rawTrailers: Controller['rawTrailers'] = null;

  constructor(private readonly abortFn: (err?: Error) => void) {}

  get paused(): boolean {
    return this.pausedFlag;
  }

  get aborted(): boolean {
    return this.abortedFlag;
  }

  get reason(): Error | null {
    return this.abortReason;
  }

  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    this[kResume]?.();
  }

  abort(reason: Error): void {
    if (this.abortedFlag) return;
    this.abortedFlag = true;
    this.abortReason = reason;
    this.abortFn(reason);
  }
}

/**
 * One request's deadline on an undici pool. While the request body uploads
 * it is a gap: each piece undici sent restarts it (nginx's
 * proxy_send_timeout), so a client that uploads slowly is not cut off but a
 * stalled upload (client or upstream) still ends. From the request's last
 * byte (at once for a request without a body) it bounds the whole response
 * to the end of its body, as Envoy's route timeout does from the end of the
 * downstream request. undici only has gap timeouts (headersTimeout,
 * bodyTimeout), so a body trickled slower than those never ends; this aborts
 * it. On HTTP/1.1 undici destroys the socket, on h2 it resets the stream
 * (the session serves the others).
 *
 * It takes undici's legacy handler calls, the only ones that report the
 * upload (onBodySent, onRequestSent), and hands the new-style ones on.
 * One timer per request, restarted with `refresh()` and cleared when the
 * response ends or fails. Node keeps timers of one duration in one list
 * behind one native timer, so arming and clearing are O(1); the function
 * and its argument are shared, no closure.
 */
class DeadlineHandler implements Dispatcher.DispatchHandler {
  private timer: NodeJS.Timeout | null = null;
  private controller: DeadlineController | null = null;
  private headSeen = false;
  private done = false;

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
    this.done = true;
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
  }

  /** Starts the deadline again from now: the request went out, a piece of its body did, or its last byte did. */
  private restart(): void {
    if (this.done) return;
    if (this.timer !== null) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(DeadlineHandler.expire, this.timeout, this);
    this.timer.unref();
  }

  onConnect(abort: (err?: Error) => void): void {
    const controller = new DeadlineController(abort);
    this.controller = controller;
    this.restart();
    this.inner.onRequestStart?.(controller, {});
  }

  onBodySent(): void {
    this.restart();
  }

  onRequestSent(): void {
    this.restart();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusMessage: string): boolean {
    const c = this.controller as DeadlineController;
    c[kResume] = resume;
    c.rawHeaders = rawHeaders;
    if (statusCode >= 200) this.headSeen = true;
    this.inner.onResponseStart?.(c, statusCode, util.parseHeaders(rawHeaders) as Headers, statusMessage);
    return !c.paused;
  }

  onData(chunk: Buffer): boolean {
    const c = this.controller as DeadlineController;
    this.inner.onResponseData?.(c, chunk);
    return !c.paused;
  }

  onComplete(rawTrailers: string[] | null): void {
    this.clear();
    const c = this.controller as DeadlineController;
    c.rawTrailers = rawTrailers;
    this.inner.onResponseEnd?.(c, util.parseHeaders(rawTrailers ?? []) as Headers);
  }

  onError(err: Error): void {
    this.clear();
    // undici may fail a request before it connected (onConnect never came): the handler still needs a controller.
    this.controller ??= new DeadlineController(() => undefined);
    this.inner.onResponseError?.(this.controller, err);
  }
}

/** An undici pool (HTTP/1.1 or h2) whose `timeout` bounds the upload's gaps and then the whole response, as the native client's does. */
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
