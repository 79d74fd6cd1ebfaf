import type { RequestContext } from '../../context';
import type { Filter } from '../../pipeline/filter';
import { BodyOps } from '../../body/body-ops';
import { HeaderOps } from '../header-ops';
import { rewriteRequestBody } from './body-rewrite';
import type { RequestAdaptorSpec } from './schema';
import { ORIGIN_PATH } from './target-chars';

/** The rewritten path, or null when a regexpReplace result is not an origin-form path. */
type PathOp = (path: string) => string | null;

/**
 * replace, then trimPrefix, then addPrefix, then regexpReplace. A trimmed
 * path that no longer starts with / gains one, unless addPrefix follows:
 * `/radapt` trimmed by `/radapt` is `/`, and with addPrefix `/v2` it is `/v2`.
 */
function compilePathOp(spec: RequestAdaptorSpec['path']): PathOp | null {
  if (spec === undefined) return null;
  const { replace, addPrefix, trimPrefix, regexpReplace } = spec;
  const re = regexpReplace === undefined ? null : new RegExp(regexpReplace.regexp);
  return (path) => {
    let p = path;
    if (replace !== undefined) p = replace;
    if (trimPrefix !== undefined && p.startsWith(trimPrefix)) {
      p = p.slice(trimPrefix.length);
      if (addPrefix === undefined && p.charCodeAt(0) !== 47 /* / */) p = `/${p}`;
    }
    if (addPrefix !== undefined) p = addPrefix + p;
    if (re !== null && regexpReplace !== undefined) {
      p = p.replace(re, regexpReplace.replace);
      // Capture groups and `$&` copy parts of the path: the result may still not be a path.
      if (!ORIGIN_PATH.test(p)) return null;
    }
    return p;
  };
}

/** RequestAdaptor: rewrites method, path, host, headers and (buffered) body before the request goes upstream. */
export class RequestAdaptorFilter implements Filter {
  readonly kind = 'RequestAdaptor';
  private readonly method: string | null;
  private readonly host: string | null;
  private readonly pathOp: PathOp | null;
  private readonly headerOps: HeaderOps;
  private readonly bodyOps: BodyOps | null;
  private readonly maxBodySize: number;

  constructor(
    readonly name: string,
    spec: RequestAdaptorSpec,
  ) {
    this.method = spec.method?.toUpperCase() ?? null;
    this.host = spec.host ?? null;
    this.pathOp = compilePathOp(spec.path);
    this.headerOps = new HeaderOps(spec.header);
    this.bodyOps = spec.body === undefined ? null : new BodyOps(spec.body);
    this.maxBodySize = spec.maxBodySize;
  }

  handle(ctx: RequestContext): string | Promise<string> {
    if (this.method !== null) ctx.method = this.method;
    if (this.pathOp !== null) {
      const p = this.pathOp(ctx.path);
      if (p === null) {
        ctx.fail('NGATE_ERR_INTERNAL', 'the RequestAdaptor path.regexpReplace result is not a path (it must start with / and hold no ?, # or spaces)');
        return 'invalid';
      }
      ctx.path = p;
    }
    if (this.host !== null) ctx.headers.set('host', this.host);
    this.headerOps.apply(ctx.headers);
    return this.bodyOps === null ? '' : rewriteRequestBody(ctx, this.bodyOps, this.maxBodySize);
  }
}
