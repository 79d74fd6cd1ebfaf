import type { RequestContext } from '../../context';
import type { Filter } from '../../pipeline/filter';
import { BodyOps } from '../../body/body-ops';
import { HeaderOps } from '../header-ops';
import { asBuffer, matchEditedHead, noBodyStatus, rewriteStreamedResponse, setResponseBody } from './body-rewrite';
import type { ResponseAdaptorSpec } from './schema';

/** ResponseAdaptor: edits the response headers and, with `body`, the buffered body (placed after Proxy in the flow). */
export class ResponseAdaptorFilter implements Filter {
  readonly kind = 'ResponseAdaptor';
  private readonly headerOps: HeaderOps;
  private readonly bodyOps: BodyOps | null;
  private readonly maxBodySize: number;

  constructor(
    readonly name: string,
    spec: ResponseAdaptorSpec,
  ) {
    this.headerOps = new HeaderOps(spec.header);
    this.bodyOps = spec.body === undefined ? null : new BodyOps(spec.body);
    this.maxBodySize = spec.maxBodySize;
  }

  handle(ctx: RequestContext): string | Promise<string> {
    this.headerOps.apply(ctx.responseHeaders);
    const ops = this.bodyOps;
    if (ops === null || noBodyStatus(ctx.status)) return '';
    if (ctx.method === 'HEAD') return matchEditedHead(ctx, ops);
    if (ctx.streamedBody !== null) return rewriteStreamedResponse(ctx, ops, this.maxBodySize);
    return setResponseBody(ctx, ops, asBuffer(ctx.responseBody), false);
  }
}
