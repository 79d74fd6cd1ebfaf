import type { RequestContext } from '../../context';
import type { Filter } from '../../pipeline/filter';
import { matchOrigin, MAX_ORIGIN_LENGTH, parseOriginPattern } from './origin-pattern';
import type { CorsSpec } from './schema';

type OriginMatcher = (origin: string) => boolean;

function originMatcher(patterns: readonly string[]): OriginMatcher | null {
  if (patterns.includes('*')) return null;
  const exact = new Set(patterns.filter((p) => !p.includes('*')).map((p) => p.toLowerCase()));
  const wild = patterns.filter((p) => p.includes('*')).map(parseOriginPattern);
  return (origin) => {
    if (origin.length > MAX_ORIGIN_LENGTH) return false;
    const o = origin.toLowerCase();
    if (exact.has(o)) return true;
    for (const p of wild) if (matchOrigin(p, o)) return true;
    return false;
  };
}

/**
 * CORS: answers preflights (OPTIONS with Access-Control-Request-Method) at the
 * edge with 204, result `preflight` (403 for an origin or method not allowed).
 * For other requests from an allowed origin it registers the response headers
 * as edge headers, so they land on the final response wherever the filter
 * sits in the flow, also on a proxied one. Responses vary on Origin unless
 * every origin is allowed without credentials; preflight answers also on
 * Access-Control-Request-Method (it decides 204 or 403) and, when the
 * requested headers are echoed, on Access-Control-Request-Headers, so a
 * cache never hands one client's preflight answer to another.
 *
 * With "*" and credentials the origin is echoed, but never the opaque origin
 * `null` (sandboxed iframes, data: and file: pages): that would grant any
 * such document credentialed access, which "*" itself is forbidden to do.
 */
export class CorsFilter implements Filter {
  readonly kind = 'CORS';
  private readonly matches: OriginMatcher | null;
  private readonly anyOrigin: boolean;
  private readonly credentials: boolean;
  private readonly methods: Set<string>;
  private readonly methodsValue: string;
  private readonly headersValue: string | null;
  private readonly exposedValue: string | null;
  private readonly maxAge: string | null;
  /** Vary tokens of a preflight answer (403) and of an allowed one (204). */
  private readonly refusedVary: readonly string[];
  private readonly preflightVary: readonly string[];

  constructor(
    readonly name: string,
    spec: CorsSpec,
  ) {
    this.matches = originMatcher(spec.allowedOrigins);
    this.credentials = spec.allowCredentials;
    // "*" is not allowed by browsers together with credentials: echo the origin then.
    this.anyOrigin = this.matches === null && !this.credentials;
    this.methods = new Set(spec.allowedMethods.map((m) => m.toUpperCase()));
    this.methodsValue = [...this.methods].join(', ');
    this.headersValue = spec.allowedHeaders === undefined ? null : spec.allowedHeaders.join(', ');
    this.exposedValue = spec.exposedHeaders === undefined || spec.exposedHeaders.length === 0 ? null : spec.exposedHeaders.join(', ');
    this.maxAge = spec.maxAge > 0 ? String(Math.floor(spec.maxAge / 1000)) : null;
    this.refusedVary = this.anyOrigin ? ['Access-Control-Request-Method'] : ['Origin', 'Access-Control-Request-Method'];
    this.preflightVary = this.headersValue === null ? [...this.refusedVary, 'Access-Control-Request-Headers'] : this.refusedVary;
  }

  handle(ctx: RequestContext): string {
    const origin = ctx.headers.get('origin');
    const allowed = origin !== undefined && (this.matches === null ? this.anyOrigin || origin !== 'null' : this.matches(origin));
    const requested = ctx.method === 'OPTIONS' ? ctx.headers.get('access-control-request-method') : undefined;
    if (requested !== undefined) return this.preflight(ctx, allowed ? (origin as string) : null, requested);
    if (allowed) this.addEdge(ctx, this.common(origin));
    else if (!this.anyOrigin) this.addEdge(ctx, ['vary', 'Origin']);
    return '';
  }

  private preflight(ctx: RequestContext, origin: string | null, method: string): string {
    if (origin === null || !this.methods.has(method.toUpperCase())) {
      ctx.fail('NGATE_ERR_FORBIDDEN', 'CORS preflight refused');
      for (const token of this.refusedVary) ctx.responseHeaders.addVary(token);
      return 'preflight';
    }
    ctx.status = 204;
    ctx.responseBody = null;
    const h = ctx.responseHeaders;
    const common = this.common(origin);
    for (let i = 0; i < common.length; i += 2) if (common[i] !== 'vary') h.set(common[i] as string, common[i + 1] as string);
    for (const token of this.preflightVary) h.addVary(token);
    h.set('access-control-allow-methods', this.methodsValue);
    const asked = ctx.headers.get('access-control-request-headers');
    const allowHeaders = this.headersValue ?? asked;
    if (allowHeaders !== undefined && allowHeaders !== '') h.set('access-control-allow-headers', allowHeaders);
    if (this.maxAge !== null) h.set('access-control-max-age', this.maxAge);
    return 'preflight';
  }

  private common(origin: string): string[] {
    const out = ['access-control-allow-origin', this.anyOrigin ? '*' : origin];
    if (!this.anyOrigin) out.push('vary', 'Origin');
    if (this.credentials) out.push('access-control-allow-credentials', 'true');
    if (this.exposedValue !== null) out.push('access-control-expose-headers', this.exposedValue);
    return out;
  }

  private addEdge(ctx: RequestContext, items: string[]): void {
    if (ctx.edgeHeaders === null) ctx.edgeHeaders = items;
    else ctx.edgeHeaders.push(...items);
  }
}
