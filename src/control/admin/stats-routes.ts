/** /stats (Envoy text, ?format=json, ?filter=regex), /stats/prometheus, /clusters, /config_dump. */
import type { CompiledConfig } from '../../config/compiled';
import { redactSecrets } from './redact';
import { ENDPOINT_STRIDE, IN_FLIGHT, RAMP } from '../../shared/sab-layout';
import { ENDPOINT } from '../../shared/stats-names';
import type { Availability } from '../health/availability';
import type { EndpointInfo } from '../stats/catalog';
import { envoyJson, envoyText, prometheus } from '../stats/formats';
import { takeSnapshot, type MembershipSource, type ServerStat } from '../stats/snapshot';
import type { StatsStore } from '../stats/stats-store';
import { json, text, type AdminRequest, type AdminServer } from './admin-server';

export interface StatsSources {
  readonly store: StatsStore;
  /** The shared endpoint slots (health, in-flight). */
  readonly endpoints: Int32Array;
  readonly availability: Availability;
  /** membership_change and update_failure per service; the availability flips alone when absent. */
  readonly membership?: MembershipSource;
  config(): CompiledConfig | null;
  /** Process-wide counters (`server.<stat>`): the access log lines dropped. */
  server?(): ServerStat[];
}

const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function filterOf(req: AdminRequest): RegExp | null | string {
  const f = req.query.get('filter');
  if (f === null || f === '') return null;
  try {
    return new RegExp(f);
  } catch (err) {
    return (err as Error).message;
  }
}

/** One endpoint as /clusters shows it. */
function endpointView(src: StatsSources, e: EndpointInfo) {
  const outcomes = src.store.endpointTotals(e.slot);
  const ok = outcomes[ENDPOINT.rq_success] as number;
  const errors = outcomes[ENDPOINT.rq_error] as number;
  return {
    url: e.url,
    healthy: src.availability.available(e.slot),
    failedActiveHealthCheck: src.availability.is(e.slot, 'failedActive'),
    ejected: src.availability.is(e.slot, 'ejected'),
    weight: e.weight,
    /** Percent of its weight it takes now: below 100 during a slow-start ramp. */
    weight_percent: Atomics.load(src.endpoints, e.slot * ENDPOINT_STRIDE + RAMP) || 100,
    rq_active: Atomics.load(src.endpoints, e.slot * ENDPOINT_STRIDE + IN_FLIGHT),
    /**
     * Envoy's per-host counters, one per attempt sent to this endpoint
     * (a retry counts on the endpoint it went to). rq_error: an attempt
     * answered 5xx, or that failed without an answer (connect failure or
     * connect timeout, response timeout, reset), as Envoy counts it;
     * rq_success: any other answer (1xx-4xx). rq_total is their sum, the
     * attempts that finished (those in progress are rq_active). No
     * per-endpoint connection gauge exists, so no cx_active.
     */
    rq_success: ok,
    rq_error: errors,
    rq_total: ok + errors,
  };
}

export function registerStatsRoutes(admin: AdminServer, src: StatsSources): void {
  admin.route('GET', '/stats', (req) => {
    const filter = filterOf(req);
    if (typeof filter === 'string') return json(400, { error: `filter: ${filter}` });
    const snap = takeSnapshot(src.store, src.endpoints, src.membership ?? src.availability, src.server?.() ?? []);
    const format = req.query.get('format');
    if (format === 'json') return json(200, envoyJson(snap, filter));
    if (format === 'prometheus') return text(200, prometheus(snap, filter), PROMETHEUS_TYPE);
    if (format !== null && format !== 'text') return json(400, { error: `unknown format "${format}" (text, json, prometheus)` });
    return text(200, envoyText(snap, filter));
  });
  admin.route('GET', '/stats/prometheus', (req) => {
    const filter = filterOf(req);
    if (typeof filter === 'string') return json(400, { error: `filter: ${filter}` });
    return text(200, prometheus(takeSnapshot(src.store, src.endpoints, src.membership ?? src.availability, src.server?.() ?? []), filter), PROMETHEUS_TYPE);
  });
  admin.route('GET', '/clusters', (req) => {
    const clusters = src.store.catalog.services.map((s) => {
      const counters = src.store.service(s.slot);
      return {
        name: s.name,
        upstream_rq_total: counters[0],
        healthCheck: s.healthCheck !== null,
        endpoints: s.endpoints.map((e) => endpointView(src, e)),
      };
    });
    if (req.query.get('format') === 'json') return json(200, { clusters });
    // Envoy's text form: cluster::host::field::value
    const lines: string[] = [];
    for (const c of clusters) {
      for (const e of c.endpoints) {
        const host = new URL(e.url).host;
        const flags = [e.failedActiveHealthCheck ? '/failed_active_hc' : '', e.ejected ? '/failed_outlier_check' : ''].join('');
        lines.push(`${c.name}::${host}::health_flags::${flags === '' ? 'healthy' : flags}`);
        lines.push(`${c.name}::${host}::weight::${e.weight}`);
        lines.push(`${c.name}::${host}::weight_percent::${e.weight_percent}`);
        lines.push(`${c.name}::${host}::rq_active::${e.rq_active}`);
        lines.push(`${c.name}::${host}::rq_error::${e.rq_error}`);
        lines.push(`${c.name}::${host}::rq_success::${e.rq_success}`);
        lines.push(`${c.name}::${host}::rq_total::${e.rq_total}`);
      }
    }
    return text(200, `${lines.join('\n')}\n`);
  });
  admin.route('GET', '/config_dump', () => {
    const config = src.config();
    return config === null ? json(503, { error: 'no config committed yet' }) : json(200, redactSecrets(config));
  });
}
