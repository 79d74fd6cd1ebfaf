import type { RequestContext } from '../../context';
import type { Filter } from '../../pipeline/filter';
import type { RedirectorSpec } from './schema';

/** Redirector: when `match` matches the chosen URL part, answers with `statusCode` and Location; result `redirected`. */
export class RedirectorFilter implements Filter {
  readonly kind = 'Redirector';
  private readonly re: RegExp;
  private readonly part: RedirectorSpec['matchPart'];
  private readonly replacement: string;
  private readonly code: number;

  constructor(
    readonly name: string,
    spec: RedirectorSpec,
  ) {
    this.re = new RegExp(spec.match);
    this.part = spec.matchPart;
    this.replacement = spec.replacement;
    this.code = spec.statusCode;
  }

  handle(ctx: RequestContext): string {
    const subject = this.subject(ctx);
    if (!this.re.test(subject)) return '';
    // The redirect is the whole answer, also after a Proxy step that already holds an upstream response.
    ctx.discardResponse();
    ctx.status = this.code;
    ctx.responseHeaders.set('location', subject.replace(this.re, this.replacement));
    return 'redirected';
  }

  private subject(ctx: RequestContext): string {
    if (this.part === 'path') return ctx.path;
    const uri = ctx.query === '' ? ctx.path : `${ctx.path}?${ctx.query}`;
    if (this.part === 'uri') return uri;
    return `${ctx.scheme}://${ctx.headers.get('host') ?? ''}${uri}`;
  }
}
