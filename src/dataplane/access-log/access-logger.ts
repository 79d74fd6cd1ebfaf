import { compileAccessFormat, type AccessFormatter } from '../../shared/access-log-format';
import type { RequestContext } from '../context';
import type { AccessLogBuffer } from './access-log-buffer';

/** One HTTPServer's access log in one worker and generation: formats a finished request into the worker's buffer. */
export class AccessLogger {
  private readonly format: AccessFormatter;

  constructor(
    private readonly target: string,
    format: string,
    private readonly buffer: AccessLogBuffer,
    private readonly server: string,
    private readonly generation: number,
  ) {
    this.format = compileAccessFormat(format);
  }

  /** A request the engine could not parse, answered `status` with `error`: only the peer is known. */
  logUnparsed(remote: string, status: number, bytes: number, error: string): void {
    this.buffer.add(
      this.target,
      this.format({
        time: Date.now(),
        remote,
        method: '',
        path: '',
        query: '',
        protocol: '',
        status,
        bytes,
        upstream: '',
        upstreamMs: -1,
        totalMs: 0,
        requestId: '',
        generation: this.generation,
        server: this.server,
        userAgent: '',
        referer: '',
        error,
      }),
    );
  }

  log(ctx: RequestContext, status: number, totalMs: number, protocol: string): void {
    const h = ctx.headers;
    const body = ctx.responseBody;
    this.buffer.add(
      this.target,
      this.format({
        time: performance.timeOrigin + ctx.startTime,
        remote: ctx.remoteAddress,
        method: ctx.method,
        path: ctx.originalPath,
        query: ctx.query,
        protocol,
        status,
        bytes: body === null ? ctx.bytesOut : typeof body === 'string' ? Buffer.byteLength(body) : body.length,
        upstream: ctx.upstream,
        upstreamMs: ctx.upstreamMs,
        totalMs,
        requestId: h.get('x-request-id') ?? '',
        generation: this.generation,
        server: this.server,
        userAgent: h.get('user-agent') ?? '',
        referer: h.get('referer') ?? '',
        error: ctx.errorCode ?? '',
      }),
    );
  }
}
