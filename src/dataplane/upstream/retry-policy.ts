import type { RetrySpec } from '../../config/pool-schema';
import type { RequestContext } from '../context';

/** Methods that may reach an upstream twice without changing the outcome (RFC 9110 §9.2.2). */
export const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const MAX_DELAY = 2_000;

/** A streamed request body can be sent again only while no byte of it was read. */
function bodyUnsent(ctx: RequestContext): boolean {
  const deferred = ctx.unstreamedBody;
  if (deferred !== null) return deferred.sendable;
  const body = ctx.body;
  return body === null || (!body.readableDidRead && !body.destroyed);
}

/**
 * When a failed attempt may be tried again. A connection that was never
 * established carried nothing, so any method may retry it; after the request
 * was sent (a reset, an upstream 5xx, a response timeout) only idempotent methods retry, so a
 * POST reaches an upstream at most once.
 */
export class RetryPolicy {
  readonly maxAttempts: number;
  private readonly backoff: number;
  private readonly onConnect: boolean;
  private readonly onReset: boolean;
  private readonly statuses: Set<number>;

  constructor(spec: RetrySpec) {
    this.maxAttempts = spec.maxAttempts;
    this.backoff = spec.backoff;
    this.onConnect = spec.on.includes('connect-failure');
    this.onReset = spec.on.includes('reset-before-response');
    this.statuses = new Set(spec.on.filter((o) => /^\d+$/.test(o)).map(Number));
  }

  afterConnectFailure(ctx: RequestContext): boolean {
    return this.onConnect && bodyUnsent(ctx);
  }

  afterReset(ctx: RequestContext): boolean {
    return this.onReset && IDEMPOTENT.has(ctx.method) && bodyUnsent(ctx);
  }

  /**
   * A response timeout before the head: the answer would be a local 504, so
   * `504` in `on` retries it, on the terms of an upstream 504 (each attempt
   * has its own `timeout`).
   */
  afterTimeout(ctx: RequestContext): boolean {
    return this.afterStatus(ctx, 504);
  }

  afterStatus(ctx: RequestContext, status: number): boolean {
    return this.statuses.has(status) && IDEMPOTENT.has(ctx.method) && bodyUnsent(ctx);
  }

  /** Wait before attempt `attempt + 1`: exponential with jitter, so retries of many clients spread out. */
  delay(attempt: number): number {
    if (this.backoff === 0) return 0;
    return Math.min(MAX_DELAY, this.backoff * 2 ** (attempt - 1) * (0.5 + Math.random() * 0.5));
  }
}
