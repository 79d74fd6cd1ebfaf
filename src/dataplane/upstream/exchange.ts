import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { BodySink, RequestContext, StreamedBody } from '../context';
import type { Endpoint } from '../balancer/endpoint';
import { HOP_BY_HOP, connectionListed } from './hop-headers';
import { upstreamErrorCode } from './upstream-error';
import type { ServiceCounters } from '../stats/counters';

/** Upstream response headers the listener re-frames itself (uWS writes its own Date and Content-Length). */
const REFRAMED = new Set(['date', 'content-length']);

type Controller = Dispatcher.DispatchController;

/**
 * One request's exchange with an upstream: an undici dispatch handler on one
 * side, a StreamedBody for the listener on the other. Settles `done` with
 * '' once response headers arrived, or 'serverError' after answering the
 * context with 502/504 when no response came.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler, StreamedBody {
  length = -1;
  private controller: Controller | null = null;
  private sink: BodySink | null = null;
  private pending: Buffer[] | null = null;
  private ended = false;
  private failed = false;
  private headersSeen = false;
  private settle: ((result: string) => void) | null;
  readonly done: Promise<string>;
  private readonly startTime = performance.now();

  constructor(
    private readonly ctx: RequestContext,
    private readonly endpoint: Endpoint,
    private readonly counters: ServiceCounters,
  ) {
    endpoint.begin();
    counters.request();
    let settle!: (result: string) => void;
    this.done = new Promise<string>((resolve) => (settle = resolve));
    this.settle = settle;
    ctx.onAbort = () => this.cancel();
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.ctx.aborted) controller.abort(new Error('client aborted'));
  }

  onResponseStart(_controller: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    this.headersSeen = true;
    const ctx = this.ctx;
    ctx.status = statusCode;
    this.counters.response(statusCode);
    this.counters.outcome(this.endpoint.index, statusCode < 500);
    const listed = connectionListed(headers.connection as string | undefined);
    const out = ctx.responseHeaders;
    for (const name in headers) {
      if (HOP_BY_HOP.has(name) || REFRAMED.has(name) || (listed !== null && listed.has(name))) continue;
      const value = headers[name];
      if (typeof value === 'string') out.add(name, value);
      else if (value !== undefined) for (const v of value) out.add(name, v);
    }
    const cl = headers['content-length'];
    this.length = typeof cl === 'string' ? Number(cl) : -1;
    ctx.streamedBody = this;
    this.finishHeaders('');
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.counters.bytes(chunk.length);
    const sink = this.sink;
    if (sink === null) {
      (this.pending ??= []).push(chunk);
      return;
    }
    if (!sink.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.ended = true;
    this.release();
    this.ctx.onAbort = null;
    if (this.sink !== null) this.sink.end();
  }

  onResponseError(_controller: Controller, err: Error): void {
    this.release();
    const ctx = this.ctx;
    ctx.onAbort = null;
    if (!this.headersSeen) {
      if (!ctx.aborted) {
        // The listener may already know why (client body too large or cut off).
        const code = ctx.errorCode ?? upstreamErrorCode(err);
        ctx.fail(code, ctx.errorCode === null ? err.message : undefined);
        this.counters.failure(code);
        this.counters.response(ctx.status);
        // A client-side cause (body cut off, too large) says nothing about the endpoint.
        if (code.startsWith('NGATE_ERR_UPSTREAM')) this.counters.outcome(this.endpoint.index, false);
      }
      this.finishHeaders('serverError');
      return;
    }
    this.failed = true;
    if (this.sink !== null) this.sink.abort();
  }

  pipeTo(sink: BodySink): void {
    this.sink = sink;
    const pending = this.pending;
    this.pending = null;
    if (pending !== null) {
      let flowing = true;
      for (const chunk of pending) flowing = sink.write(chunk) && flowing;
      if (!flowing) this.controller?.pause();
    }
    if (this.failed) sink.abort();
    else if (this.ended) sink.end();
  }

  resume(): void {
    this.controller?.resume();
  }

  cancel(): void {
    const c = this.controller;
    if (c !== null && !c.aborted && !this.ended) c.abort(new Error('client aborted'));
  }

  private released = false;
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.endpoint.end();
    this.counters.time(performance.now() - this.startTime);
  }

  private finishHeaders(result: string): void {
    const settle = this.settle;
    this.settle = null;
    if (settle !== null) settle(result);
  }
}
