/**
 * The recorders the data path holds: a view on this worker's counter block at
 * an offset resolved when the runtime is built, plus the latency histogram of
 * the same slot. Plain stores: this worker is the block's only writer.
 */
import type { LatencyRecorder } from './latency-recorder';
import type { ErrorCode } from '../../shared/errors';
import { CLUSTER, COMMON_CODES, ENDPOINT, LISTENER, ROUTE } from '../../shared/stats-names';

/** status → offset of its `upstream_rq_<code>` counter, -1 when the code has none. */
const CODE_OFFSET = new Int8Array(600).fill(-1);
for (const code of COMMON_CODES) CODE_OFFSET[code] = CLUSTER[`upstream_rq_${code}`];

/** `b[i] += n` for a typed array index known to be in range (the layout guarantees it). */
function add(b: Float64Array, i: number, n: number): void {
  b[i] = (b[i] as number) + n;
}

function toMicros(ms: number): number {
  const us = Math.round(ms * 1000);
  return us < 1 ? 1 : us;
}

export class ServiceCounters {
  constructor(
    private readonly block: Float64Array,
    private readonly base: number,
    private readonly latency: LatencyRecorder,
    /** Offset of each endpoint's block, by the endpoint's index in its pool. */
    private readonly endpointBases: readonly number[],
  ) {}

  /** One request sent upstream (Envoy counts upstream_rq_total when the request starts). */
  request(): void {
    add(this.block, this.base + CLUSTER.upstream_rq_total, 1);
  }

  /** One upstream request answered (by the upstream, or locally as 502/504 when it failed). */
  response(status: number): void {
    const b = this.block;
    const base = this.base;
    const cls = (status / 100) | 0;
    if (cls >= 1 && cls <= 5) add(b, base + CLUSTER.upstream_rq_1xx + cls - 1, 1);
    const code = status < 600 ? (CODE_OFFSET[status] as number) : -1;
    if (code >= 0) add(b, base + code, 1);
  }

  failure(code: ErrorCode): void {
    if (code === 'NGATE_ERR_UPSTREAM_CONNECT' || code === 'NGATE_ERR_UPSTREAM_CONNECT_TIMEOUT') add(this.block, this.base + CLUSTER.upstream_cx_connect_fail, 1);
    else if (code === 'NGATE_ERR_UPSTREAM_TIMEOUT') add(this.block, this.base + CLUSTER.upstream_rq_timeout, 1);
    else if (code === 'NGATE_ERR_POOL_OVERFLOW') add(this.block, this.base + CLUSTER.upstream_rq_pending_overflow, 1);
  }

  /** An attempt abandoned before its response head because the client went away. */
  cancelled(): void {
    add(this.block, this.base + CLUSTER.upstream_rq_tx_reset, 1);
  }

  /** An attempt after the first one of a request. */
  retried(): void {
    add(this.block, this.base + CLUSTER.upstream_rq_retry, 1);
  }

  /** A request refused 503 before any attempt: the pool's circuit breaker is open. */
  circuitOpen(): void {
    add(this.block, this.base + CLUSTER.upstream_rq_circuit_open, 1);
  }

  /** A request refused 503 before any attempt: no endpoint of the pool is in rotation. */
  noneHealthy(): void {
    add(this.block, this.base + CLUSTER.upstream_cx_none_healthy, 1);
  }

  /** Feeds passive health: `ok` false for connect failures, timeouts, resets and 5xx. */
  outcome(endpointIndex: number, ok: boolean): void {
    add(this.block, (this.endpointBases[endpointIndex] as number) + (ok ? ENDPOINT.rq_success : ENDPOINT.rq_error), 1);
  }

  /** A mirror copy that was not sent. */
  mirrorSkipped(): void {
    add(this.block, this.base + CLUSTER.upstream_rq_mirror_skipped, 1);
  }

  /** Response body bytes received. */
  bytes(n: number): void {
    add(this.block, this.base + CLUSTER.upstream_cx_rx_bytes_total, n);
  }

  /** Request body bytes sent. */
  sent(n: number): void {
    add(this.block, this.base + CLUSTER.upstream_cx_tx_bytes_total, n);
  }

  time(ms: number): void {
    this.latency.record(toMicros(ms));
  }

  /** An upstream connection of this service opened (`h2`: it speaks HTTP/2). */
  connected(h2: boolean): void {
    const b = this.block;
    add(b, this.base + CLUSTER.upstream_cx_total, 1);
    add(b, this.base + CLUSTER.upstream_cx_active, 1);
    if (h2) add(b, this.base + CLUSTER.upstream_cx_http2_total, 1);
  }

  disconnected(): void {
    add(this.block, this.base + CLUSTER.upstream_cx_active, -1);
  }
}

export class ListenerCounters {
  constructor(
    private readonly block: Float64Array,
    private readonly base: number,
    private readonly latency: LatencyRecorder,
  ) {}

  begin(): void {
    add(this.block, this.base + LISTENER.downstream_rq_active, 1);
  }

  /**
   * The response is written (or the client went away: status 0); `ms` is the whole request time,
   * `rx`/`tx` the request and response body bytes.
   */
  end(status: number, ms: number, rx: number, tx: number): void {
    const b = this.block;
    const base = this.base;
    add(b, base + LISTENER.downstream_rq_active, -1);
    add(b, base + LISTENER.downstream_rq_total, 1);
    add(b, base + LISTENER.downstream_cx_rx_bytes_total, rx);
    add(b, base + LISTENER.downstream_cx_tx_bytes_total, tx);
    const cls = (status / 100) | 0;
    if (cls >= 1 && cls <= 5) add(b, base + LISTENER.downstream_rq_1xx + cls - 1, 1);
    else if (status === 0) add(b, base + LISTENER.downstream_rq_rx_reset, 1);
    this.latency.record(toMicros(ms));
  }

  /**
   * A request the engine could not parse, answered by the gateway (a 400, 408 or 431 on
   * `engine: node`): counted in the total and its status class, not timed (its start is unknown).
   */
  unparsed(status: number, tx: number): void {
    const b = this.block;
    const base = this.base;
    add(b, base + LISTENER.downstream_rq_total, 1);
    add(b, base + LISTENER.downstream_cx_tx_bytes_total, tx);
    add(b, base + LISTENER.downstream_rq_1xx + ((status / 100) | 0) - 1, 1);
  }

  /** A WebSocket upgrade completed; it stays active until `upgradeClosed`. */
  upgradeOpened(): void {
    add(this.block, this.base + LISTENER.downstream_cx_upgrades_total, 1);
    add(this.block, this.base + LISTENER.downstream_cx_upgrades_active, 1);
  }

  upgradeClosed(): void {
    add(this.block, this.base + LISTENER.downstream_cx_upgrades_active, -1);
  }

  /** A connection refused because the listener is at maxConnections. */
  overflow(): void {
    add(this.block, this.base + LISTENER.downstream_cx_overflow, 1);
  }
}

/** One path rule's counters: the route found by the router carries them, the request's end records them. */
export class RouteCounters {
  constructor(
    private readonly block: Float64Array,
    private readonly base: number,
    private readonly latency: LatencyRecorder,
  ) {}

  /** The response is written (status 0: the client went away); `ms` is the whole request time, `rx`/`tx` body bytes. */
  end(status: number, ms: number, rx: number, tx: number): void {
    const b = this.block;
    const base = this.base;
    add(b, base + ROUTE.downstream_rq_total, 1);
    add(b, base + ROUTE.downstream_cx_rx_bytes_total, rx);
    add(b, base + ROUTE.downstream_cx_tx_bytes_total, tx);
    const cls = (status / 100) | 0;
    if (cls >= 1 && cls <= 5) add(b, base + ROUTE.downstream_rq_1xx + cls - 1, 1);
    else if (status === 0) add(b, base + ROUTE.downstream_rq_rx_reset, 1);
    this.latency.record(toMicros(ms));
  }
}
