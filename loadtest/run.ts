// npm run loadtest -- <scenario> [--smoke] [--duration S] [--connections N] [--workers N] [--engine uws|node]
//                                [--target both|ngate|backend] [--out-dir DIR]
// Starts its own backend and ngate, loads both with autocannon, prints the
// figures and writes them to loadtest/results/<scenario>-<time>.json.
import autocannon from 'autocannon';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { formatLine, summarize, type Metrics } from './metrics';
import { REPO_ROOT, startBackend, startGateway, type BackendProcess, type Child, type GatewayProcess } from './processes';
import { SCENARIOS, type Scenario, type ScenarioEnv } from './scenarios';
import type { LoadSession } from './sticky';

export interface LoadResultFile {
  scenario: string;
  description: string;
  startedAt: string;
  machine: { cpus: number; cpuModel: string; kernel: string; node: string };
  options: { duration: number; connections: number; workers: number };
  /** Target ("ngate", "backend") → what it measured. */
  runs: Record<string, Metrics>;
  /** What the scenario verified around the ngate run (sticky), one line each. */
  checks?: string[];
}

interface RunOptions {
  duration: number;
  connections: number;
  workers: number;
  /** Listener engine of the `bench` HTTPServer. */
  engine: 'uws' | 'node';
  targets: ('ngate' | 'backend')[];
  outDir: string;
  warmup: number;
}

function usage(): string {
  const names = SCENARIOS.map((s) => `  ${s.name.padEnd(10)} ${s.description}`).join('\n');
  return `usage: npm run loadtest -- <scenario> [--smoke] [--duration S] [--connections N] [--workers N] [--engine uws|node] [--target both|ngate|backend] [--out-dir DIR]\nscenarios:\n${names}`;
}

function parseOptions(argv: string[]): { scenario: Scenario; opts: RunOptions } | string {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      smoke: { type: 'boolean', default: false },
      duration: { type: 'string' },
      connections: { type: 'string', default: '64' },
      workers: { type: 'string', default: '1' },
      engine: { type: 'string', default: 'uws' },
      target: { type: 'string', default: 'both' },
      'out-dir': { type: 'string', default: path.join(REPO_ROOT, 'loadtest', 'results') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help === true || positionals.length !== 1) return usage();
  const scenario = SCENARIOS.find((s) => s.name === positionals[0]);
  if (scenario === undefined) return `unknown scenario "${positionals[0]}"\n${usage()}`;
  const smoke = values.smoke === true;
  const duration = Number(values.duration ?? (smoke ? 2 : 10));
  const connections = Number(values.connections);
  const workers = Number(values.workers);
  if (!(duration > 0) || !(connections > 0) || !(workers > 0)) return `--duration, --connections and --workers must be positive numbers\n${usage()}`;
  const target = values.target ?? 'both';
  if (!['both', 'ngate', 'backend'].includes(target)) return `--target must be both, ngate or backend`;
  const engine = values.engine ?? 'uws';
  if (engine !== 'uws' && engine !== 'node') return `--engine must be uws or node`;
  const targets = target === 'both' ? (['ngate', 'backend'] as const) : ([target] as ('ngate' | 'backend')[]);
  return { scenario, opts: { duration, connections, workers, engine, targets: [...targets], outDir: values['out-dir'] ?? '', warmup: smoke ? 0 : 2 } };
}

function load(url: string, scenario: Scenario, connections: number, duration: number, progress: boolean, extraHeaders: Record<string, string> = {}): Promise<autocannon.Result> {
  const { method, body } = scenario.request;
  const headers = { ...scenario.request.headers, ...extraHeaders };
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, duration, method, headers, body, timeout: 10 }, (err, result) => (err ? reject(err) : resolve(result)));
    if (progress) autocannon.track(instance, { renderProgressBar: true, renderResultsTable: false });
  });
}

/** One request before loading: the route must answer 2xx, or the figures would measure error pages. */
async function checkRoute(url: string, scenario: Scenario): Promise<void> {
  const { method, headers, body } = scenario.request;
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 200)}`);
}

async function run(scenario: Scenario, runOpts: RunOptions): Promise<string> {
  let opts = runOpts;
  // Every child from the moment it is spawned (not once ready), so a signal during a start stops it too.
  const children: Child[] = [];
  const track = (c: Child): void => void children.push(c);
  // Stops already under way count too: a signal during the final stopAll waits for them as well.
  const stopping: Promise<void>[] = [];
  const stopAll = (): Promise<unknown> => {
    stopping.push(...children.splice(0).map((c) => c.stop()));
    return Promise.allSettled(stopping);
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), `ngate-loadtest-${scenario.name}-`));
  // process.exit skips the finally below: the handler removes the run's files itself.
  const onSignal = (signal: NodeJS.Signals): void =>
    void stopAll().then(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(128 + (os.constants.signals[signal] ?? 0));
    });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const [name, content] of Object.entries(scenario.files ?? {})) writeFileSync(path.join(dir, name), content);
    const backends: BackendProcess[] = [];
    const count = scenario.backends ?? 1;
    for (let i = 0; i < count; i++) {
      const args = [...(count > 1 ? ['--id', `b${i + 1}`] : []), ...(scenario.backendServesFiles === true ? ['--root', dir] : [])];
      backends.push(await startBackend(args, track));
    }
    const env: ScenarioEnv = { backends, dir };
    const backend = backends[0] as BackendProcess;
    const urls: Record<string, string> = { backend: `${backend.url}${scenario.request.path}` };
    let gateway: GatewayProcess | undefined;
    if (opts.targets.includes('ngate')) {
      gateway = await startGateway(scenario.config(backend.url, env).replace('kind: HTTPServer\n', `kind: HTTPServer\nengine: ${opts.engine}\n`), opts.workers, track);
      urls.ngate = gateway.url('bench', scenario.request.path);
    }
    const file: LoadResultFile = {
      scenario: scenario.name,
      description: scenario.description,
      startedAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', kernel: os.release(), node: process.version },
      options: { duration: opts.duration, connections: opts.connections, workers: opts.workers },
      runs: {},
    };
    const gatewayAdmin = gateway?.ready.admin;
    if (scenario.churn !== undefined && urls.ngate !== undefined && gatewayAdmin !== undefined) {
      await measureChurn(scenario, opts, urls.ngate, `http://${gatewayAdmin}`, backend.url, file);
      opts = { ...opts, targets: opts.targets.filter((t) => t !== 'ngate') };
    }
    for (const target of opts.targets) {
      const url = urls[target] ?? '';
      await checkRoute(url, scenario);
      const session = target === 'ngate' ? await openSession(scenario, url, env, file) : undefined;
      const headers = session?.headers ?? {};
      if (opts.warmup > 0) {
        process.stderr.write(`${target}: warm-up ${opts.warmup} s\n`);
        await load(url, scenario, opts.connections, opts.warmup, false, headers);
      }
      process.stderr.write(`${target}: ${scenario.request.method} ${url}\n`);
      const measured = summarize(await load(url, scenario, opts.connections, opts.duration, true, headers));
      file.runs[target] = measured;
      if (session !== undefined) note(file, await session.afterLoad(measured.requests));
    }
    await stopAll();

    console.log(`\n${scenario.name}: ${opts.connections} connections, ${opts.duration} s, ngate --workers ${opts.workers} --engine ${opts.engine}`);
    for (const [target, m] of Object.entries(file.runs)) console.log(formatLine(target, m));
    for (const line of file.checks ?? []) console.log(`check: ${line}`);
    const g = file.runs.ngate;
    const b = file.runs.backend;
    if (g !== undefined && b !== undefined && b.requestsPerSec > 0) console.log(`ngate/backend req/s ${(g.requestsPerSec / b.requestsPerSec).toFixed(2)}×`);

    mkdirSync(opts.outDir, { recursive: true });
    const out = path.join(opts.outDir, `${scenario.name}-${file.startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(out, JSON.stringify(file, null, 2) + '\n');
    console.log(`results: ${out}`);
    return out;
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Keeps `lines` in the result file and prints them now, so a failed check still shows what passed before it. */
function note(file: LoadResultFile, lines: string[]): void {
  file.checks = [...(file.checks ?? []), ...lines];
  for (const line of lines) process.stderr.write(`check: ${line}\n`);
}

async function openSession(scenario: Scenario, url: string, env: ScenarioEnv, file: LoadResultFile): Promise<LoadSession | undefined> {
  if (scenario.session === undefined) return undefined;
  const session = await scenario.session(url, env);
  note(file, session.checked);
  return session;
}

/** ngate steady, then ngate while `scenario.churn` swaps objects for the whole run: runs "ngate" and "ngate-swapping". */
async function measureChurn(scenario: Scenario, opts: RunOptions, url: string, admin: string, backendUrl: string, file: LoadResultFile): Promise<void> {
  await checkRoute(url, scenario);
  if (opts.warmup > 0) await load(url, scenario, opts.connections, opts.warmup, false);
  process.stderr.write(`ngate (steady): ${scenario.request.method} ${url}\n`);
  file.runs.ngate = summarize(await load(url, scenario, opts.connections, opts.duration, true));
  process.stderr.write(`ngate (swapping objects): ${scenario.request.method} ${url}\n`);
  const stop = new AbortController();
  const churning = scenario.churn?.(admin, backendUrl, stop.signal) ?? Promise.resolve(0);
  const result = await load(url, scenario, opts.connections, opts.duration, true).finally(() => stop.abort());
  const swaps = await churning;
  file.runs['ngate-swapping'] = { ...summarize(result), swaps } as Metrics;
  console.log(`swaps applied during the run: ${swaps} (${(swaps / opts.duration).toFixed(1)}/s)`);
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (typeof parsed === 'string') {
    console.error(parsed);
    return 2;
  }
  const { scenario, opts } = parsed;
  if (scenario.unavailable !== undefined) {
    console.log(`${scenario.name}: skipped: ${scenario.unavailable}`);
    return 0;
  }
  await run(scenario, opts);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
