/**
 * Every counter name, declared once (Envoy style). The position of a name in
 * its list is its offset inside a counter block; the admin API prints the
 * names, the data path uses the offsets (resolved once, never by name).
 */
export const CLUSTER_COUNTERS = [
  'upstream_rq_total',
  'upstream_rq_1xx',
  'upstream_rq_2xx',
  'upstream_rq_3xx',
  'upstream_rq_4xx',
  'upstream_rq_5xx',
  'upstream_rq_200',
  'upstream_rq_404',
  'upstream_rq_500',
  'upstream_rq_502',
  'upstream_rq_503',
  'upstream_rq_504',
  'upstream_cx_connect_fail',
  'upstream_rq_timeout',
  /** Response body bytes received from upstreams (heads not included). */
  'upstream_cx_rx_bytes_total',
  /** Request body bytes sent upstream, counted when an attempt's response head arrives (heads not included). */
  'upstream_cx_tx_bytes_total',
  /** Attempts after the first one of a request (each also counts in upstream_rq_total). */
  'upstream_rq_retry',
  /** Requests refused 503 because the pool's maxPending (over maxConnectionsPerWorker) was reached. */
  'upstream_rq_pending_overflow',
  /** Requests refused 503 at once because the pool's circuit breaker was open. */
  'upstream_rq_circuit_open',
  /** Mirror pools: requests taken for mirroring but not copied (body over maxBodySize, too many copies in flight, no endpoint). */
  'upstream_rq_mirror_skipped',
  /** Upstream connections opened (any protocol), and those that speak HTTP/2. */
  'upstream_cx_total',
  'upstream_cx_http2_total',
  /** A gauge: upstream connections open now. */
  'upstream_cx_active',
  /**
   * Attempts abandoned before their response head because the client went away (Envoy's
   * "requests reset locally"): such an attempt has no status class; with them the classes add up to upstream_rq_total.
   */
  'upstream_rq_tx_reset',
  /** Requests refused 503 NGATE_ERR_NO_ENDPOINT because no endpoint was in rotation (Envoy's name); never in upstream_rq_total. */
  'upstream_cx_none_healthy',
] as const;

/** Gauges among the cluster counters (summed, but never baselined when a slot is reused). */
export const CLUSTER_GAUGES: ReadonlySet<string> = new Set(['upstream_cx_active']);

/** Status codes with a counter of their own (`upstream_rq_<code>`). */
export const COMMON_CODES = [200, 404, 500, 502, 503, 504] as const;

/** Per path rule of an HTTPServer (`http.<server>.route.<name or index>.*`); a listener counts the same and more. */
export const ROUTE_COUNTERS = [
  'downstream_rq_total',
  'downstream_rq_1xx',
  'downstream_rq_2xx',
  'downstream_rq_3xx',
  'downstream_rq_4xx',
  'downstream_rq_5xx',
  /** Request body bytes received from clients, and response body bytes written to them (heads not included). */
  'downstream_cx_rx_bytes_total',
  'downstream_cx_tx_bytes_total',
  /**
   * Requests whose client went away before a status was set (Envoy's downstream_rq_rx_reset):
   * counted instead of a status class, so the classes and this add up to downstream_rq_total.
   */
  'downstream_rq_rx_reset',
] as const;

export const LISTENER_COUNTERS = [
  ...ROUTE_COUNTERS,
  /** A gauge: requests in flight on this listener (stands for active connections). */
  'downstream_rq_active',
  /** WebSocket upgrades completed (101 sent), and a gauge of those still open (Envoy names). */
  'downstream_cx_upgrades_total',
  'downstream_cx_upgrades_active',
  /**
   * Connections refused by maxConnections (Envoy's listener downstream_cx_overflow):
   * engine: node, closed at accept; engine: uws, answered 503 and closed.
   */
  'downstream_cx_overflow',
] as const;

/**
 * Per endpoint, for passive health (outlier ejection): answers that count as
 * success, and failures (connect failure, timeout, reset, 5xx).
 */
export const ENDPOINT_COUNTERS = ['rq_success', 'rq_error'] as const;

/** Gauges among the listener counters (summed, but never reset or baselined). */
export const LISTENER_GAUGES: ReadonlySet<string> = new Set(['downstream_rq_active', 'downstream_cx_upgrades_active']);

/** Histograms, in microseconds in the workers, shown in milliseconds. */
export const CLUSTER_HISTOGRAM = 'upstream_rq_time';
export const LISTENER_HISTOGRAM = 'downstream_rq_time';
export const ROUTE_HISTOGRAM = 'downstream_rq_time';

/** Quantiles shown for every histogram. */
export const QUANTILES = [50, 90, 99, 99.9, 100] as const;

type Offsets<T extends readonly string[]> = { readonly [K in T[number]]: number };

function offsets<const T extends readonly string[]>(names: T): Offsets<T> {
  return Object.freeze(Object.fromEntries(names.map((n, i) => [n, i]))) as Offsets<T>;
}

export const CLUSTER = offsets(CLUSTER_COUNTERS);
export const LISTENER = offsets(LISTENER_COUNTERS);
export const ENDPOINT = offsets(ENDPOINT_COUNTERS);
export const ROUTE = offsets(ROUTE_COUNTERS);
