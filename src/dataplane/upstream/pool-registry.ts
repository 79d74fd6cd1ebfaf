import { createHash } from 'node:crypto';
import { buildConnector, type Pool, type Dispatcher } from 'undici';
import { UndiciPool } from './undici-pool';
import type { UpstreamClient } from '../../config/pool-schema';
import type { UpstreamTls } from '../../config/tls-material';
import { countingConnector, type ConnectionObserver } from './counting-connector';
import { H1Pool } from './h1/pool';
import { TlsPool, tlsConnector, tlsOptions } from './upstream-tls';
import { H2Dispatcher } from './h2-upload';
import { DeadlineDispatcher } from './response-deadline';

export type { ConnectionObserver } from './counting-connector';

/** What the data path needs of an upstream pool: undici's Pool and the native H1Pool both fit. */
export interface UpstreamDispatcher {
  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  /** Sends on a connection opened for this request, never an idle keep-alive one (a resend after a stale socket). */
  dispatchFresh(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  request(opts: Dispatcher.RequestOptions): Promise<{ statusCode: number; body: { dump(): Promise<unknown> } }>;
  close(): Promise<void>;
  /** Reports a broken response only once its socket closed (undici's HTTP/1.1 client): see UpstreamExchange.onResponseStart. */
  readonly failsOnClose?: boolean;
  /** Takes a DeferredBody (context.ts) as `opts.body` (the native client). */
  readonly acceptsDeferredBody?: boolean;
}

export interface UpstreamOptions {
  readonly connectTimeout: number;
  readonly timeout: number;
  readonly keepAliveTimeout: number;
  readonly maxConnections: number;
  /** The pool's TLS settings for https:// origins (null: verify with the system CAs). */
  readonly tls: UpstreamTls | null;
  /** HTTP/1.1 client: ngate's own (`native`) or undici. HTTP/2 pools always use undici. */
  readonly client: UpstreamClient;
  /** 'h2': HTTP/2, prior knowledge (h2c) on http://, ALPN on https://. */
  readonly protocol: 'http1' | 'h2';
  /** With h2: streams multiplexed on one connection before undici opens another. */
  readonly maxConcurrentStreams: number;
}

function tlsKey(tls: UpstreamTls | null): string {
  return tls === null ? '' : createHash('sha256').update(JSON.stringify(tls)).digest('hex').slice(0, 16);
}

/**
 * A worker's keep-alive pools, one per service, endpoint origin and option set
 * (per service so that connection counters belong to one cluster, as Envoy's
 * connection pools do). A new config generation reuses the pools of endpoints
 * that did not change. Each committed generation holds a lease on the pools
 * it asked for, released when the generation closes (once its last request
 * ended, see RuntimeHolder): a pool closes only when no generation holds it
 * any more, so a request keeps the pools of the generation it started on for
 * all of its attempts. Closing is graceful: requests queued and in flight on
 * the pool finish (this is how an endpoint that DNS discovery dropped drains).
 */
export class PoolRegistry {
  private readonly pools = new Map<string, UpstreamDispatcher>();
  /** Committed generations holding each pool (absent: none yet, a pool of a generation being built). */
  private readonly refs = new Map<string, number>();
  private building = new Set<string>();

  /** `service` names the owner of `observer` (its stats slot); pools are not shared across services. */
  get(origin: string, opts: UpstreamOptions, service: number, observer: ConnectionObserver): UpstreamDispatcher {
    const h2 = opts.protocol === 'h2';
    const client = h2 ? 'undici' : opts.client;
    const key = `${service}|${client}|${origin}|${opts.connectTimeout}|${opts.timeout}|${opts.keepAliveTimeout}|${opts.maxConnections}|${opts.protocol}|${opts.maxConcurrentStreams}|${tlsKey(opts.tls)}`;
    this.building.add(key);
    let pool = this.pools.get(key);
    if (pool !== undefined) return pool;
    const url = new URL(origin);
    const secure = url.protocol === 'https:';
    if (client === 'native') {
      pool = new H1Pool(origin, {
        connections: opts.maxConnections,
        connectTimeout: opts.connectTimeout,
        timeout: opts.timeout,
        keepAliveTimeout: opts.keepAliveTimeout,
        tls: secure ? tlsOptions(url, opts.tls) : null,
        observer,
      });
    } else {
      const connect = secure
        ? tlsConnector(url, opts.tls, opts.connectTimeout, h2)
        : buildConnector({ timeout: opts.connectTimeout, allowH2: h2, useH2c: h2 } as buildConnector.BuildOptions);
      const options: Pool.Options = {
        connections: opts.maxConnections,
        // On h2, undici's `pipelining` is the streams one connection carries before the pool opens another.
        pipelining: h2 ? opts.maxConcurrentStreams : 1,
        keepAliveTimeout: opts.keepAliveTimeout,
        keepAliveMaxTimeout: Math.max(opts.keepAliveTimeout, 60_000),
        // Gap timeouts, kept as undici's own guard; the whole-response deadline is DeadlineDispatcher's.
        headersTimeout: opts.timeout,
        bodyTimeout: opts.timeout,
        connect: countingConnector(connect, observer),
        strictContentLength: true,
        allowH2: h2,
        maxConcurrentStreams: opts.maxConcurrentStreams,
      };
      const undici = secure ? new TlsPool(origin, options, url.host) : new UndiciPool(origin, options);
      // The deadline sits next to undici (it takes the upload reports, which the h2 upload's handler does not pass on).
      const timed: UpstreamDispatcher = opts.timeout === 0 ? undici : new DeadlineDispatcher(undici, opts.timeout);
      pool = h2 ? new H2Dispatcher(timed) : timed;
    }
    this.pools.set(key, pool);
    return pool;
  }

  /**
   * Called once a generation is committed: it holds the pools it asked for
   * until it calls the returned release (when it closes).
   */
  commit(): () => void {
    const lease = [...this.building];
    this.building = new Set();
    for (const key of lease) this.refs.set(key, (this.refs.get(key) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      for (const key of lease) {
        const n = (this.refs.get(key) ?? 1) - 1;
        if (n > 0) this.refs.set(key, n);
        // A generation being built asked for it again: its commit (or abort) decides.
        else if (this.building.has(key)) this.refs.delete(key);
        else this.drop(key);
      }
    };
  }

  /** A generation that was aborted: the pools only it asked for close (requests never ran on them). */
  abortBuild(): void {
    for (const key of this.building) if (!this.refs.has(key)) this.drop(key);
    this.building = new Set();
  }

  private drop(key: string): void {
    const pool = this.pools.get(key);
    this.pools.delete(key);
    this.refs.delete(key);
    pool?.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    this.refs.clear();
    await Promise.allSettled(all.map((p) => p.close()));
  }
}
