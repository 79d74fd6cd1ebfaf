/**
 * A small strict parser of the Prometheus text exposition format (0.0.4):
 * it throws on anything a Prometheus server would refuse, and on samples
 * outside their family's TYPE block, and checks histogram consistency.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface Family {
  readonly type: string;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, line: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value in: ${line}`);
  return Number(s);
}

function parseLabels(body: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels in: ${line}`);
    const name = body.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name "${name}" in: ${line}`);
    if (body[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`);
    let j = eq + 2;
    let value = '';
    for (; j < body.length && body[j] !== '"'; j++) {
      if (body[j] === '\\') {
        const next = body[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`bad escape in: ${line}`);
      } else value += body[j];
    }
    if (j >= body.length) throw new Error(`unterminated label value in: ${line}`);
    if (name in labels) throw new Error(`duplicate label ${name} in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (body[i] === ',') i++;
    else if (i !== body.length) throw new Error(`bad label separator in: ${line}`);
  }
  return labels;
}

function familyOf(sample: string, families: Map<string, Family>): string | undefined {
  if (families.has(sample)) return sample;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length);
      if (families.get(base)?.type === 'histogram') return base;
    }
  }
  return undefined;
}

export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  let current: string | null = null;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('#')) {
      const m = /^# (TYPE|HELP) (\S+)(?: (.*))?$/.exec(line);
      if (m === null) continue; // plain comment
      const name = m[2] as string;
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      if (m[1] === 'TYPE') {
        if (families.has(name)) throw new Error(`second TYPE for ${name}`);
        if (!TYPES.has(m[3] ?? '')) throw new Error(`bad type in: ${line}`);
        families.set(name, { type: m[3] as string, samples: [] });
        current = name;
      }
      continue;
    }
    if (line.trim() === '') throw new Error('empty line in exposition');
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (m === null) throw new Error(`bad sample line: ${line}`);
    const name = m[1] as string;
    const fam = familyOf(name, families);
    if (fam === undefined || fam !== current) throw new Error(`sample outside its TYPE block: ${line}`);
    families.get(fam)?.samples.push({ name, labels: parseLabels(m[2] ?? '', line), value: parseValue(m[3] as string, line) });
  }
  for (const [name, f] of families) if (f.type === 'histogram') checkHistogram(name, f);
  return families;
}

function checkHistogram(name: string, f: Family): void {
  const series = new Map<string, { buckets: { le: number; v: number }[]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name === `${name}_bucket`) {
      if (le === undefined) throw new Error(`${name}_bucket without le`);
      entry.buckets.push({ le: parseValue(le, le), v: s.value });
    } else if (s.name === `${name}_count`) entry.count = s.value;
    else if (s.name === `${name}_sum`) entry.sum = s.value;
  }
  for (const [key, e] of series) {
    const last = e.buckets[e.buckets.length - 1];
    if (last === undefined || last.le !== Infinity) throw new Error(`${name}${key}: no +Inf bucket`);
    for (let i = 1; i < e.buckets.length; i++) {
      const a = e.buckets[i - 1] as { le: number; v: number };
      const b = e.buckets[i] as { le: number; v: number };
      if (!(b.le > a.le) || b.v < a.v) throw new Error(`${name}${key}: buckets not increasing`);
    }
    if (e.count !== last.v || e.sum === undefined) throw new Error(`${name}${key}: _count must equal the +Inf bucket, _sum required`);
  }
}

export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string>): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
