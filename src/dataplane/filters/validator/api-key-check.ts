import { createHash } from 'node:crypto';
import type { RequestContext } from '../../context';
import type { CheckFailure, RequestCheck } from './check';
import type { ApiKeySpec } from './schema';

const digest = (key: string): string => createHash('sha256').update(key).digest('base64');

/**
 * The request carries one of the configured keys in a header (or a query
 * parameter), exactly once: header and query together, or either repeated,
 * is refused. Keys are compared by SHA-256 digest, so lookup time does not
 * depend on how much of a guessed key matches.
 */
export class ApiKeyCheck implements RequestCheck {
  private readonly digests: ReadonlySet<string>;
  private readonly header: string;
  private readonly query: string | null;
  private readonly challenge: string;
  /** Where the key may be, for refusal details. */
  private readonly where: string;

  /** `filterName`: the realm when the rule names none. */
  constructor(spec: ApiKeySpec, filterName: string) {
    this.digests = new Set(spec.keys.map(digest));
    this.header = spec.header.toLowerCase();
    this.query = spec.query ?? null;
    this.where = `header ${this.header}${this.query === null ? '' : ` or query ${this.query}`}`;
    // Tells a client where the key goes, as Basic and Bearer challenges do for theirs.
    const quoted = (v: string): string => `"${v.replace(/["\\\x00-\x1f\x7f]/g, '')}"`;
    this.challenge = `ApiKey realm=${quoted(spec.realm ?? filterName)}, header=${quoted(spec.header)}${spec.query === undefined ? '' : `, query=${quoted(spec.query)}`}`;
  }

  check(ctx: RequestContext): CheckFailure | null {
    const fromHeader = ctx.headers.getAll(this.header);
    const fromQuery = this.fromQuery(ctx.query);
    // Only one copy is checked, and the upstream may read another: more than one is refused.
    if (fromHeader.length + fromQuery.length > 1) return this.refuse(`API key sent more than once (${this.where})`);
    const key = fromHeader[0] ?? fromQuery[0];
    if (key === undefined) return this.refuse(`API key missing (${this.where})`);
    if (!this.digests.has(digest(key))) return this.refuse('API key not accepted');
    return null;
  }

  private refuse(detail: string): CheckFailure {
    return { code: 'NGATE_ERR_UNAUTHORIZED', detail, challenge: this.challenge };
  }

  private fromQuery(query: string): string[] {
    if (this.query === null || query.length === 0) return [];
    return new URLSearchParams(query).getAll(this.query);
  }
}
