/**
 * Engine process: its main thread is the coordinator. It loads the config,
 * spawns the worker threads, swaps generations into them and reports to the
 * supervisor over IPC. It never exits on its own while workers hold uWS
 * handles; after a drain the supervisor ends it.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadAndCompile } from '../config/config-file';
import { formatConfigError } from '../config/validate';
import { AdminServer } from '../control/admin/admin-server';
import { registerInfoRoutes } from '../control/admin/info-routes';
import { registerStatsRoutes } from '../control/admin/stats-routes';
import { Availability } from '../control/health/availability';
import { HealthChecker } from '../control/health/health-checker';
import { OutlierDetector } from '../control/health/outlier-detector';
import { catalogOf } from '../control/stats/catalog';
import { StatsStore } from '../control/stats/stats-store';
import { createStatsBuffer } from '../shared/stats-layout';
import { Broadcaster } from '../control/broadcast';
import { probePort } from '../control/port-probe';
import { SlotAllocator } from '../control/slot-allocator';
import { createSharedState } from '../shared/sab-layout';
import { log } from '../shared/log';
import type { FromEngine, FromWorker, ToEngine, ToWorker } from '../shared/messages';
import { EXIT_CONFIG, type EngineOptions } from './options';
import type { CompiledConfig } from '../config/compiled';

const options = JSON.parse(process.argv[2] ?? '{}') as EngineOptions;

function report(msg: FromEngine): void {
  if (process.send !== undefined) process.send(msg);
}

function fatal(message: string, code: number): never {
  log('ERROR', message);
  report({ type: 'failed', error: message });
  process.exit(code);
}

/** Port 0 means "any free port": resolved once here so every worker binds the same one. */
async function claimPorts(compiled: CompiledConfig): Promise<CompiledConfig> {
  const servers = [];
  for (const s of compiled.servers) {
    const port = await probePort(s.address, s.port);
    servers.push({ ...s, port });
  }
  return { ...compiled, servers };
}

function spawnWorkers(count: number, shared: SharedArrayBuffer, stats: SharedArrayBuffer, onMessage: (msg: FromWorker) => void): Promise<Worker[]> {
  const file = path.join(__dirname, '..', 'worker', 'main.js');
  const workers: Worker[] = [];
  let started = 0;
  return new Promise((resolve, reject) => {
    for (let i = 0; i < count; i++) {
      const w = new Worker(file, { workerData: { index: i, shared, stats } });
      w.on('message', (msg: FromWorker) => {
        if (msg.type === 'started' && ++started === count) resolve(workers);
        if (msg.type === 'started' && i === 0) log('INFO', 'uWebSockets.js loaded', { source: msg.uws });
        if (msg.type === 'fatal') log('ERROR', 'worker error', { worker: msg.worker, error: msg.error });
        onMessage(msg);
      });
      w.on('error', (err) => {
        if (started < count) reject(err);
        else fatal(`worker ${i} failed: ${err.stack ?? err.message}`, 70);
      });
      w.on('exit', (code) => {
        if (!draining) fatal(`worker ${i} exited with code ${code}`, 70);
      });
      workers.push(w);
    }
  });
}

let draining = false;

async function main(): Promise<void> {
  const outcome = loadAndCompile(options.configFiles, 1);
  for (const w of outcome.warnings) log('WARN', formatConfigError(w));
  if (outcome.compiled === null) {
    for (const e of outcome.errors) log('ERROR', formatConfigError(e));
    fatal(`config refused: ${outcome.errors.length} error(s)`, EXIT_CONFIG);
  }
  let compiled: CompiledConfig;
  try {
    compiled = await claimPorts(outcome.compiled);
  } catch (err) {
    fatal((err as Error).message, EXIT_CONFIG);
  }
  const sharedState = createSharedState();
  const statsBuffer = createStatsBuffer(options.workers);
  const stats = new StatsStore(statsBuffer, options.workers);
  const availability = new Availability(sharedState.endpoints);
  const health = new HealthChecker(availability);
  const outliers = new OutlierDetector(stats, availability);
  const slots = new SlotAllocator();
  let broadcaster: Broadcaster | null = null;
  let current: CompiledConfig | null = null;
  const onWorkerMessage = (msg: FromWorker): void => {
    if (msg.type === 'histograms') stats.merge(msg.services, msg.listeners);
    else broadcaster?.onMessage(msg);
  };
  const workers = await spawnWorkers(options.workers, sharedState.buffer, statsBuffer, onWorkerMessage).catch((err: Error) =>
    fatal(`cannot start workers: ${err.message}`, 70),
  );
  broadcaster = new Broadcaster(workers, options.swapTimeoutMs);
  const assigned = slots.assign(compiled);
  const result = await broadcaster.swap(assigned);
  if (!result.ok) fatal(`cannot start: ${result.error ?? 'unknown error'}`, EXIT_CONFIG);
  // After every committed swap: name the stats slots and (re)start active and passive health.
  const committed = (config: CompiledConfig): void => {
    current = config;
    const catalog = catalogOf(config);
    stats.setCatalog(catalog);
    health.apply(catalog);
    outliers.apply(catalog);
  };
  committed(assigned);
  const admin = new AdminServer(options.adminToken);
  registerStatsRoutes(admin, { store: stats, endpoints: sharedState.endpoints, availability, config: () => current });
  registerInfoRoutes(admin, { workers: workers.length, generation: () => broadcaster?.committedGeneration ?? 0, draining: () => draining });
  let adminPort: number;
  try {
    adminPort = await admin.listen(options.adminAddress, options.adminPort);
  } catch (err) {
    fatal(`cannot start the admin API on ${options.adminAddress}:${options.adminPort}: ${(err as Error).message}`, EXIT_CONFIG);
  }
  report({ type: 'ready', generation: result.generation, workers: workers.length, listeners: result.listeners, admin: `${options.adminAddress}:${adminPort}` });

  const drainedWorkers = new Set<number>();
  process.on('message', (msg: ToEngine) => {
    if (msg.type === 'drain' && !draining) {
      draining = true;
      log('INFO', 'draining', { timeoutMs: msg.timeoutMs });
      const drain: ToWorker = { type: 'drain', timeoutMs: msg.timeoutMs };
      for (const w of workers) w.postMessage(drain);
    }
  });
  for (const w of workers) {
    w.on('message', (msg: FromWorker) => {
      if (msg.type !== 'drained') return;
      drainedWorkers.add(msg.worker);
      if (msg.inFlight > 0) log('WARN', 'drain timeout with requests in flight', { worker: msg.worker, inFlight: msg.inFlight });
      if (drainedWorkers.size === workers.length) report({ type: 'drained' });
    });
  }
  // The supervisor is our lifeline: if it goes away, nobody can restart or stop us cleanly.
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}

process.on('SIGINT', () => undefined); // the supervisor decides; a terminal's Ctrl-C reaches it too
process.on('SIGTERM', () => undefined);
main().catch((err: Error) => fatal(`engine failed: ${err.stack ?? err.message}`, 70));
