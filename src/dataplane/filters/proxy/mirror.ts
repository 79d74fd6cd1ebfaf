import type { Dispatcher } from 'undici';
import { ERROR_STATUS } from '../../../shared/errors';
import { SLOTS_KEY, type PoolSlots } from '../../../shared/sab-layout';
import type { Endpoint } from '../../balancer/endpoint';
import { readRequestBodyUpTo } from '../../body/read-request-body';
import type { RequestContext } from '../../context';
import type { FilterEnv } from '../../pipeline/filter';
import { upstreamHeaders } from '../../upstream/forward';
import { upstreamErrorCode } from '../../upstream/upstream-error';
import { buildPool, type BuiltPool } from './pool-endpoints';
import type { MirrorPoolSpec } from './schema';
import { Share } from './share';

/**
 * Mirror pool: a copy of (a share of) the requests goes to one endpoint of
 * the mirror pool; its response is read and dropped. The copy never delays
 * the main request beyond reading a body of at most `maxBodySize` (the copy
 * needs it whole; the main request then gets the same bytes), and never
 * fails it: a larger body, too many copies in flight or no endpoint only
 * count `upstream_rq_mirror_skipped`, and mirror failures count in the
 * mirror service's own stats (connect failures, timeouts, 5xx).
 */
export class Mirror {
  private readonly pool: BuiltPool;
  private readonly share: Share;
  private readonly maxBodySize: number;
  /** Copies this worker has in flight, and the most it may have. */
  private inFlight = 0;
  private readonly maxInFlight: number;

  constructor(spec: MirrorPoolSpec, env: FilterEnv) {
    this.pool = buildPool(spec, (spec as MirrorPoolSpec & { [SLOTS_KEY]: PoolSlots })[SLOTS_KEY], env);
    this.share = new Share(spec.percentage);
    this.maxBodySize = spec.maxBodySize;
    this.maxInFlight = spec.maxConnectionsPerWorker + (spec.maxPending ?? 0);
  }

  /** Sends the copy; returns a promise only when the request body has to be read first. */
  copy(ctx: RequestContext): void | Promise<void> {
    if (!this.share.take(ctx)) return;
    if (this.inFlight >= this.maxInFlight) {
      this.pool.counters.mirrorSkipped();
      return;
    }
    if (!ctx.hasBody) {
      this.send(ctx, null);
      return;
    }
    return readRequestBodyUpTo(ctx, this.maxBodySize).then((body) => {
      if (body === null) this.pool.counters.mirrorSkipped();
      else this.send(ctx, body);
    });
  }

  private send(ctx: RequestContext, body: Buffer | null): void {
    const endpoint = this.pool.balancer.pick(ctx);
    const counters = this.pool.counters;
    if (endpoint === null) {
      counters.mirrorSkipped();
      return;
    }
    const query = ctx.query;
    const opts: Dispatcher.RequestOptions = {
      path: query.length === 0 ? ctx.path : `${ctx.path}?${query}`,
      method: ctx.method as Dispatcher.HttpMethod,
      headers: upstreamHeaders(ctx),
      body,
    };
    this.inFlight++;
    endpoint.begin();
    counters.request();
    const start = performance.now();
    void endpoint.dispatcher.request(opts).then(
      (res) => {
        counters.response(res.statusCode);
        counters.outcome(endpoint.index, res.statusCode < 500);
        return res.body.dump().then(
          () => this.done(endpoint, start, true),
          () => this.done(endpoint, start, false),
        );
      },
      (err: Error) => {
        const code = upstreamErrorCode(err);
        counters.failure(code);
        counters.response(ERROR_STATUS[code]);
        counters.outcome(endpoint.index, false);
        this.done(endpoint, start, false);
      },
    );
  }

  /** `answered`: the copy got its response (only those are timed, as on the main path). */
  private done(endpoint: Endpoint, start: number, answered: boolean): void {
    this.inFlight--;
    endpoint.end();
    if (answered) this.pool.counters.time(performance.now() - start);
  }
}
