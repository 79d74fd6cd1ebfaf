import { createHash } from 'node:crypto';
import { Pool, type Dispatcher } from 'undici';
import type { UpstreamTls } from '../../config/tls-material';
import type { UpstreamClient } from '../../config/pool-schema';
import { TlsPool, tlsConnector, tlsOptions } from './upstream-tls';
import { H1Pool } from './h1/pool';

/** What the data path needs of an upstream pool: undici's Pool and the native H1Pool both fit. */
export interface UpstreamDispatcher {
  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  request(opts: Dispatcher.RequestOptions): Promise<{ statusCode: number; body: { dump(): Promise<unknown> } }>;
  close(): Promise<void>;
}

export interface UpstreamOptions {
  readonly connectTimeout: number;
  readonly timeout: number;
  readonly keepAliveTimeout: number;
  readonly maxConnections: number;
  /** The pool's TLS settings for https:// origins (null: verify with the system CAs). */
  readonly tls: UpstreamTls | null;
  readonly client: UpstreamClient;
}

function tlsKey(tls: UpstreamTls | null): string {
  return tls === null ? '' : createHash('sha256').update(JSON.stringify(tls)).digest('hex').slice(0, 16);
}

/**
 * A worker's keep-alive pools, one per endpoint origin and option set. A new
 * config generation reuses the pools of endpoints that did not change; pools
 * no generation uses any more are closed gracefully (in-flight finish).
 */
export class PoolRegistry {
  private readonly pools = new Map<string, UpstreamDispatcher>();
  private building = new Set<string>();

  get(origin: string, opts: UpstreamOptions): UpstreamDispatcher {
    const key = `${opts.client}|${origin}|${opts.connectTimeout}|${opts.timeout}|${opts.keepAliveTimeout}|${opts.maxConnections}|${tlsKey(opts.tls)}`;
    this.building.add(key);
    let pool = this.pools.get(key);
    if (pool === undefined && opts.client === 'native') {
      const url = new URL(origin);
      pool = new H1Pool(origin, {
        connections: opts.maxConnections,
        connectTimeout: opts.connectTimeout,
        timeout: opts.timeout,
        keepAliveTimeout: opts.keepAliveTimeout,
        tls: url.protocol === 'https:' ? tlsOptions(url, opts.tls) : null,
      });
      this.pools.set(key, pool);
    } else if (pool === undefined) {
      const options: Pool.Options = {
        connections: opts.maxConnections,
        pipelining: 1,
        keepAliveTimeout: opts.keepAliveTimeout,
        keepAliveMaxTimeout: Math.max(opts.keepAliveTimeout, 60_000),
        headersTimeout: opts.timeout,
        bodyTimeout: opts.timeout,
        connect: { timeout: opts.connectTimeout },
        strictContentLength: true,
      };
      const url = new URL(origin);
      pool =
        url.protocol === 'https:'
          ? new TlsPool(origin, { ...options, connect: tlsConnector(url, opts.tls, opts.connectTimeout) }, url.host)
          : new Pool(origin, options);
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Called once a generation is committed: closes every pool the new generation did not ask for. */
  commit(): void {
    for (const [key, pool] of this.pools) {
      if (this.building.has(key)) continue;
      this.pools.delete(key);
      pool.close().catch(() => undefined);
    }
    this.building = new Set();
  }

  /** A generation that was aborted: forget what it asked for (pools it created are closed at the next commit). */
  abortBuild(): void {
    this.building = new Set(this.pools.keys());
  }

  async closeAll(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((p) => p.close()));
  }
}
