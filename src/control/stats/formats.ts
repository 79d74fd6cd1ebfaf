/** The stats in Envoy's admin text and JSON formats and in the Prometheus exposition format. */
import { QUANTILES } from '../../shared/stats-names';
import type { HistogramValue, StatsSnapshot } from './snapshot';

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
}

function quantileLabel(q: number): string {
  return `P${q}`;
}

/** `name: value` lines; histograms as `P50(interval,cumulative) ...` (Envoy: `nan` where nothing was recorded). */
export function envoyText(snap: StatsSnapshot, filter: RegExp | null): string {
  const lines: string[] = [];
  for (const v of snap.values) if (filter === null || filter.test(v.name)) lines.push(`${v.name}: ${num(v.value)}`);
  for (const h of snap.histograms) {
    if (filter !== null && !filter.test(h.name)) continue;
    const show = (v: number | null | undefined): string => (v === null || v === undefined ? 'nan' : num(v));
    const parts = QUANTILES.map((q, i) => `${quantileLabel(q)}(${show(h.interval[i])},${show(h.quantiles[i])})`);
    lines.push(`${h.name}: ${h.count === 0 ? 'No recorded values' : parts.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

export function envoyJson(snap: StatsSnapshot, filter: RegExp | null): object {
  const keep = (name: string): boolean => filter === null || filter.test(name);
  const hist = snap.histograms.filter((h) => keep(h.name));
  return {
    stats: [
      ...snap.values.filter((v) => keep(v.name)).map((v) => ({ name: v.name, value: v.value })),
      {
        histograms: {
          supported_quantiles: [...QUANTILES],
          computed_quantiles: hist.map((h) => ({
            name: h.name,
            count: h.count,
            values: h.quantiles.map((q, i) => ({ interval: h.interval[i] ?? null, minute: h.minute[i] ?? null, cumulative: q })),
          })),
        },
      },
    ],
  };
}

const LABEL = { cluster: 'envoy_cluster_name', http: 'envoy_http_conn_manager_prefix' } as const;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

type Scope = 'cluster' | 'http' | 'server';

/** Per-route stats are families of their own (`envoy_http_route_*`) so that sums over a listener's family never count a request twice. */
function metricOf(v: { scope: Scope; stat: string; route: string | null }): string {
  return v.route === null ? `envoy_${v.scope}_${v.stat}` : `envoy_${v.scope}_route_${v.stat}`;
}

/** `{labels}`, or nothing for a process-wide (`server`) stat. */
function labelsOf(v: { scope: Scope; object: string; route: string | null }): string {
  if (v.scope === 'server') return '';
  const own = `${LABEL[v.scope]}="${escapeLabel(v.object)}"`;
  return v.route === null ? `{${own}}` : `{${own},envoy_route_name="${escapeLabel(v.route)}"}`;
}

/**
 * Prometheus text exposition format 0.0.4: one TYPE line per metric family, samples grouped under it.
 * `filter` keeps the stats whose Envoy name matches, as Envoy's `/stats/prometheus?filter=` does.
 */
export function prometheus(snap: StatsSnapshot, filter: RegExp | null = null): string {
  const families = new Map<string, { type: string; samples: string[] }>();
  const family = (name: string, type: string): string[] => {
    let f = families.get(name);
    if (f === undefined) {
      f = { type, samples: [] };
      families.set(name, f);
    }
    return f.samples;
  };
  for (const v of snap.values) {
    if (filter !== null && !filter.test(v.name)) continue;
    const metric = metricOf(v);
    family(metric, v.gauge ? 'gauge' : 'counter').push(`${metric}${labelsOf(v)} ${num(v.value)}`);
  }
  for (const h of snap.histograms) if (filter === null || filter.test(h.name)) histogramSamples(h, family(metricOf(h), 'histogram'));
  let out = '';
  for (const [name, f] of families) out += `# TYPE ${name} ${f.type}\n${f.samples.join('\n')}\n`;
  return out;
}

function histogramSamples(h: HistogramValue, out: string[]): void {
  const metric = metricOf(h);
  const labels = labelsOf(h);
  // The series' own labels, then le (a stat without labels has only le).
  const own = labels === '' ? '' : `${labels.slice(1, -1)},`;
  for (const b of h.buckets) out.push(`${metric}_bucket{${own}le="${b.le}"} ${b.count}`);
  out.push(`${metric}_bucket{${own}le="+Inf"} ${h.count}`);
  out.push(`${metric}_sum${labels} ${num(h.sum)}`);
  out.push(`${metric}_count${labels} ${h.count}`);
}
