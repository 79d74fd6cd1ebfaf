import type { RequestContext } from '../../context';
import type { Filter } from '../../pipeline/filter';
import { HeaderOps } from '../header-ops';
import type { ResponseAdaptorSpec } from './schema';

/** ResponseAdaptor: edits the response headers (placed after Proxy in the flow). */
export class ResponseAdaptorFilter implements Filter {
  readonly kind = 'ResponseAdaptor';
  private readonly headerOps: HeaderOps;

  constructor(
    readonly name: string,
    spec: ResponseAdaptorSpec,
  ) {
    this.headerOps = new HeaderOps(spec.header);
  }

  handle(ctx: RequestContext): string {
    this.headerOps.apply(ctx.responseHeaders);
    return '';
  }
}
