'use strict';
// Turns native-bench/run.sh's results.tsv into the markdown report (stdout).
// Columns: mode scenario proxy rps p50ms p99ms errors non2xx
const { readFileSync } = require('node:fs');
const os = require('node:os');

const [file, ...rest] = process.argv.slice(2);
const opt = {};
for (let i = 0; i < rest.length; i += 2) opt[rest[i].replace(/^--/, '')] = rest[i + 1];

const runs = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => {
    const [mode, scenario, proxy, rps, p50, p99, errors, non2xx] = line.split('\t');
    return { mode, scenario, proxy, rps: Number(rps), p50: Number(p50), p99: Number(p99), errors: Number(errors), non2xx: Number(non2xx) };
  });

// One row per mode/scenario/proxy: the median of its rounds (errors summed).
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const groups = new Map();
for (const r of runs) {
  const key = `${r.mode}|${r.scenario}|${r.proxy}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
const rows = [...groups.values()].map((g) => ({
  ...g[0],
  rounds: g.length,
  rpsAll: g.map((r) => r.rps),
  rps: median(g.map((r) => r.rps)),
  p50: median(g.map((r) => r.p50)),
  p99: median(g.map((r) => r.p99)),
  errors: g.reduce((n, r) => n + r.errors, 0),
  non2xx: g.reduce((n, r) => n + r.non2xx, 0),
}));

const SCENARIOS = {
  'a-small-64': '(a) small GET, 64 conns',
  'b-64k-64': '(b) 64 KiB GET, 64 conns',
  'c-post1k-64': '(c) 1 KiB POST, 64 conns',
  'd-small-1024': '(d) small GET, 1024 conns',
  'e-small-64': '(e) backend directly, small GET, 64 conns',
};
const MODES = {
  pinned: 'Pinned: 1 worker each (ngate `--workers 1`, nginx `worker_processes 1`, HAProxy `nbthread 1`), proxy on CPU 0, backend nginx (1 worker) + wrk (1 thread) on CPU 1',
  workers2: 'Unpinned: 2 workers each (ngate `--workers 2`, nginx `worker_processes 2`, HAProxy `nbthread 2`), backend nginx 2 workers, wrk 2 threads, no taskset',
};
const PROXIES = ['ngate', 'nginx', 'haproxy'];
const LABEL = { ngate: 'ngate', nginx: 'nginx', haproxy: 'HAProxy', backend: 'backend (direct)' };

const fmt = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : 'n/a');
const find = (mode, scenario, proxy) => rows.find((r) => r.mode === mode && r.scenario === scenario && r.proxy === proxy);

const out = [];
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
out.push(`# native-bench ${opt.started ?? ''}`);
out.push('');
out.push(`- Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}`);
out.push(`- ngate ${opt.commit} on Node ${process.version}; nginx ${opt.nginx}; HAProxy ${opt.haproxy}; wrk ${opt.wrk}`);
out.push(`- Each measurement: wrk for ${opt.duration} s, \`--timeout 5s --latency\`, after a ${opt.warmup} s warm-up in the first round; ${opt.rounds} round(s) per scenario, proxies loaded one after the other within a round (order reversed every other round); figures are the median over rounds. All on 127.0.0.1; upstream keep-alive on every proxy.`);
out.push('- The machine is shared with other work while this runs: absolute numbers are noisy. Quote the ratios, which come from the same run.');
out.push('');

for (const mode of Object.keys(MODES)) {
  if (!rows.some((r) => r.mode === mode)) continue;
  out.push(`## ${MODES[mode]}`);
  out.push('');
  out.push('| scenario | proxy | req/s | p50 ms | p99 ms | errors | non-2xx | req/s per round |');
  out.push('|---|---|---:|---:|---:|---:|---:|---|');
  for (const [id, title] of Object.entries(SCENARIOS)) {
    for (const proxy of id === 'e-small-64' ? ['backend'] : PROXIES) {
      const r = find(mode, id, proxy);
      if (r === undefined) continue;
      out.push(`| ${title} | ${LABEL[proxy]} | ${fmt(r.rps, 0)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.errors} | ${r.non2xx} | ${r.rpsAll.join(', ')} |`);
    }
  }
  out.push('');
  out.push('| scenario | ngate/nginx req/s | ngate/HAProxy req/s | ngate/nginx p99 | ngate/HAProxy p99 | ngate/backend req/s |');
  out.push('|---|---:|---:|---:|---:|---:|');
  const direct = find(mode, 'e-small-64', 'backend');
  for (const [id, title] of Object.entries(SCENARIOS)) {
    if (id === 'e-small-64') continue;
    const g = find(mode, id, 'ngate');
    const n = find(mode, id, 'nginx');
    const h = find(mode, id, 'haproxy');
    if (g === undefined) continue;
    const vsBackend = id === 'a-small-64' || id === 'd-small-1024' ? ratio(g.rps, direct?.rps) : '';
    out.push(`| ${title} | ${ratio(g.rps, n?.rps)} | ${ratio(g.rps, h?.rps)} | ${ratio(g.p99, n?.p99)} | ${ratio(g.p99, h?.p99)} | ${vsBackend} |`);
  }
  out.push('');
}
out.push('req/s ratio > 1 means ngate serves more; p99 ratio < 1 means ngate\'s tail is shorter.');
process.stdout.write(out.join('\n') + '\n');
