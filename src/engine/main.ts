/**
 * Engine process: its main thread is the coordinator. It loads the config,
 * spawns the worker threads, swaps generations into them and reports to the
 * supervisor over IPC. It never exits on its own while workers hold uWS
 * handles; after a drain the supervisor ends it.
 */
import { AccessLogWriter } from '../control/access-log/access-log-writer';
import type { CompiledConfig } from '../config/compiled';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { formatConfigError, validateObjects } from '../config/validate';
import { logChange } from '../control/store/change-log';
import { AdminServer } from '../control/admin/admin-server';
import { registerInfoRoutes } from '../control/admin/info-routes';
import { registerStatsRoutes } from '../control/admin/stats-routes';
import { Availability } from '../control/health/availability';
import { SlowStart } from '../control/health/slow-start';
import { HealthChecker } from '../control/health/health-checker';
import { OutlierDetector } from '../control/health/outlier-detector';
import { catalogOf } from '../control/stats/catalog';
import { StatsStore } from '../control/stats/stats-store';
import { createStatsBuffer } from '../shared/stats-layout';
import { Broadcaster } from '../control/broadcast';
import { registerObjectRoutes } from '../control/admin/object-routes';
import { ObjectService } from '../control/store/object-service';
import { ObjectStore } from '../control/store/object-store';
import { SlotAllocator } from '../control/slot-allocator';
import { DnsDiscovery } from '../control/discovery/dns-discovery';
import { MembershipTracker } from '../control/discovery/membership';
import { createSharedState } from '../shared/sab-layout';
import { log } from '../shared/log';
import { surviveClosedStdio } from '../shared/closed-stdio';
import type { FromEngine, FromWorker, ToEngine, ToWorker } from '../shared/messages';
import { EXIT_CONFIG, takeEngineOptions } from './options';
import { loadStickySecret, needsDataDirKey, STICKY_SECRET_FILE } from './sticky-secret';

surviveClosedStdio();
const options = takeEngineOptions();

function report(msg: FromEngine): void {
  if (process.send !== undefined) process.send(msg);
}

function fatal(message: string, code: number): never {
  log('ERROR', message);
  report({ type: 'failed', error: message });
  process.exit(code);
}

function spawnWorkers(count: number, shared: SharedArrayBuffer, stats: SharedArrayBuffer, onMessage: (msg: FromWorker) => void): Promise<Worker[]> {
  const file = path.join(__dirname, '..', 'worker', 'main.js');
  const workers: Worker[] = [];
  let started = 0;
  return new Promise((resolve, reject) => {
    for (let i = 0; i < count; i++) {
      const w = new Worker(file, { workerData: { index: i, shared, stats, workers: count } });
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
  const store = new ObjectStore(options.dataDir);
  const initial = store.initialSources(options.configFiles);
  if (initial.errors.length > 0) {
    for (const e of initial.errors) log('ERROR', formatConfigError(e));
    fatal(`config refused: ${initial.errors.length} error(s)`, EXIT_CONFIG);
  }
  const checked = validateObjects(initial.sources);
  for (const w of checked.warnings) log('WARN', formatConfigError(w));
  if (checked.errors.length > 0) {
    for (const e of checked.errors) log('ERROR', formatConfigError(e));
    fatal(`config refused: ${checked.errors.length} error(s) in ${initial.from}`, EXIT_CONFIG);
  }
  log('INFO', 'objects loaded', { from: initial.from, objects: checked.objects.length });
  const edited = store.configFilesNewer(options.configFiles);
  if (edited.length > 0) {
    log('WARN', 'config files changed since the data dir was written are not read at start (the data dir wins): `ngate reload` applies them; removing the data dir file starts over from them', { files: edited.join(','), dataDirFile: store.file });
  }
  const unwritable = store.unwritableReason();
  if (unwritable !== null) log('WARN', 'the data dir is not writable: changes through the object API and reloads will be refused', { dataDir: options.dataDir, reason: unwritable });
  // The admin port is bound before any worker exists: exiting on a taken port once uWS workers hold handles aborts the process.
  const admin = new AdminServer(options.adminToken);
  let adminPort: number;
  try {
    adminPort = await admin.listen(options.adminAddress, options.adminPort);
  } catch (err) {
    fatal(`cannot start the admin API on ${options.adminAddress}:${options.adminPort}: ${(err as Error).message}`, EXIT_CONFIG);
  }
  const sharedState = createSharedState();
  const statsBuffer = createStatsBuffer(options.workers);
  const stats = new StatsStore(statsBuffer, options.workers);
  const slowStart = new SlowStart(sharedState.endpoints);
  const availability = new Availability(sharedState.endpoints, slowStart);
  const outliers = new OutlierDetector(stats, availability);
  // A passing active check ends a passive ejection (Envoy's successful_active_health_check_uneject_host).
  const health = new HealthChecker(availability, outliers);
  const slots = new SlotAllocator();
  const accessLogs = new AccessLogWriter();
  const membership = new MembershipTracker();
  let service: ObjectService | null = null;
  // A DNS refresh that changed an address set re-applies the running objects (see dns-discovery.ts).
  const discovery = new DnsDiscovery(options.dnsServers ?? [], () => {
    if (service === null || draining) return;
    void service.rediscover().then((outcome) => {
      if (!outcome.ok) log('ERROR', 'applying DNS membership failed; the running endpoints stay', { error: outcome.error });
    });
  });
  let broadcaster: Broadcaster | null = null;
  let current: CompiledConfig | null = null;
  const onWorkerMessage = (msg: FromWorker): void => {
    if (msg.type === 'histograms') stats.merge(msg.services, msg.listeners, msg.routes);
    else if (msg.type === 'accessLog') accessLogs.write(msg.target, msg.text);
    else broadcaster?.onMessage(msg);
  };
  const workers = await spawnWorkers(options.workers, sharedState.buffer, statsBuffer, onWorkerMessage).catch((err: Error) =>
    fatal(`cannot start workers: ${err.message}`, 70),
  );
  broadcaster = new Broadcaster(workers, options.swapTimeoutMs);
  // A restarted engine counts on from its predecessor's last generation.
  broadcaster.committedGeneration = options.generationBase ?? 0;
  // After every committed swap: name the stats slots and (re)start active and passive health.
  const committed = (config: CompiledConfig): void => {
    current = config;
    report({ type: 'generation', generation: config.generation });
    const catalog = catalogOf(config);
    stats.setCatalog(catalog);
    slowStart.apply(catalog);
    health.apply(catalog);
    outliers.apply(catalog);
    membership.apply(catalog);
    accessLogs.retain(new Set(config.servers.flatMap((s) => (s.accessLog === null ? [] : [s.accessLog.path]))));
  };
  // The data dir's sticky-session key is read (or made) by the first config that needs it and sent to the workers before its swap.
  let stickySecret: Buffer | null = null;
  const admitStickyKey = (assigned: CompiledConfig): string | null => {
    if (stickySecret !== null || !needsDataDirKey(assigned)) return null;
    try {
      stickySecret = loadStickySecret(options.dataDir);
    } catch (err) {
      return `cannot read or create the sticky-session key ${path.join(options.dataDir, STICKY_SECRET_FILE)}: ${(err as Error).message}`;
    }
    const msg: ToWorker = { type: 'stickySecret', key: stickySecret };
    for (const w of workers) w.postMessage(msg);
    return null;
  };
  // Endpoints a change adds to a running pool start their slow-start ramp before any worker can pick them.
  service = new ObjectService(store, broadcaster, slots, committed, discovery, (assigned) => slowStart.admit(catalogOf(assigned)), admitStickyKey);
  const result = await service.start(initial.sources);
  if (!result.ok) {
    for (const e of result.errors) log('ERROR', formatConfigError(e));
    fatal(result.status === 400 ? `config refused: ${result.errors.length} error(s)` : `cannot start: ${result.error}`, EXIT_CONFIG);
  }
  const generation = (): number => broadcaster?.committedGeneration ?? 0;
  registerInfoRoutes(admin, { workers: workers.length, generation, draining: () => draining });
  registerObjectRoutes(admin, { store, service, configFiles: options.configFiles, generation });
  registerStatsRoutes(admin, {
    store: stats,
    endpoints: sharedState.endpoints,
    availability,
    membership: {
      changeCount: (name) => availability.changeCount(name) + membership.changeCount(name),
      updateFailures: (name) => discovery.updateFailures(name),
    },
    config: () => current,
    server: () => [{ stat: 'access_log_dropped', value: accessLogs.dropped }],
  });
  report({ type: 'ready', generation: result.generation, workers: workers.length, listeners: result.listeners, admin: `${options.adminAddress}:${adminPort}` });

  const drainedWorkers = new Set<number>();
  process.on('message', (msg: ToEngine) => {
    if (msg.type === 'drain' && !draining) {
      draining = true;
      // Before the workers hear of it: no change may reopen a listener or rewrite the data dir from here on.
      service?.close();
      discovery.stop();
      log('INFO', 'draining', { timeoutMs: msg.timeoutMs });
      const drain: ToWorker = { type: 'drain', timeoutMs: msg.timeoutMs };
      for (const w of workers) w.postMessage(drain);
    }
    if (msg.type === 'reload' && !draining && service !== null) void reload(service);
    if (msg.type === 'reopenLogs') accessLogs.reopen();
  });
  for (const w of workers) {
    w.on('message', (msg: FromWorker) => {
      if (msg.type !== 'drained') return;
      drainedWorkers.add(msg.worker);
      if (msg.inFlight > 0) log('WARN', 'drain timeout with requests in flight', { worker: msg.worker, inFlight: msg.inFlight });
      if (drainedWorkers.size === workers.length) void accessLogs.close().then(() => report({ type: 'drained' }));
    });
  }
  // The supervisor is our lifeline: if it goes away, nobody can restart or stop us cleanly.
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}

/** SIGHUP (forwarded by the supervisor): the config files are applied over the running objects. */
async function reload(service: ObjectService): Promise<void> {
  log('INFO', 'reloading config', { files: options.configFiles.join(',') });
  logChange('reload', await service.reload(options.configFiles), { via: 'SIGHUP', files: options.configFiles.join(',') }, 'ERROR');
}

// The supervisor decides and forwards what the engine must do. A signal sent to the whole process group
// (a terminal's Ctrl-C or hangup, systemd's KillMode=control-group, `systemctl kill -s HUP|USR1`) reaches the
// engine too: left at Node's defaults, SIGHUP would kill it and SIGUSR1 would open the inspector on port 9229.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP', 'SIGUSR1'] as const) process.on(signal, () => undefined);
main().catch((err: Error) => fatal(`engine failed: ${err.stack ?? err.message}`, 70));
