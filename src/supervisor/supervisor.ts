/**
 * The supervisor process: tiny, never runs proxy code. It starts the engine,
 * restarts it with backoff when it dies (a uWS worker thread that dies with
 * open handles aborts its whole process, so recovery must live here), turns
 * SIGTERM/SIGINT into a graceful drain, and is what systemd sees.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { log } from '../shared/log';
import type { FromEngine, ListenerInfo, ToEngine } from '../shared/messages';
import { ENGINE_OPTIONS_ENV, EXIT_CONFIG, type EngineOptions } from '../engine/options';
import { lockDataDir, unlockDataDir } from './data-dir-lock';

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** An engine that stayed up this long resets the backoff. */
const STABLE_MS = 30_000;
/** Exit status for an engine that failed other than by its config (crashed at start, or died during a drain). */
const EXIT_CRASHED = 1;

export interface SupervisorHooks {
  onReady?(listeners: ListenerInfo[]): void;
}

export class Supervisor {
  private engine: ChildProcess | null = null;
  private stopping = false;
  private everReady = false;
  /** The last generation an engine committed: a restarted engine counts on from it. */
  private generation = 0;
  private backoff = BACKOFF_MIN_MS;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  /** A SIGHUP came while no engine was ready: it reloads once one is. */
  private reloadPending = false;
  private engineReady = false;
  /** The supervisor itself ends the engine on a stop (after its drain, at the drain deadline, or before it was ready). */
  private endedByStop = false;
  /** Taken at the first start, held across engine restarts, released when this process exits. */
  private dataDirLocked = false;
  /** When a running drain gives up on in-flight requests (0: none running). */
  private drainDeadline = 0;
  restarts = 0;

  constructor(
    private readonly options: EngineOptions,
    private readonly hooks: SupervisorHooks = {},
  ) {}

  start(): void {
    if (this.stopping) return;
    if (!this.dataDirLocked) this.lockDataDir();
    this.engineReady = false;
    const entry = path.join(__dirname, '..', 'engine', 'main.js');
    this.startedAt = Date.now();
    // Options travel in the environment, not argv: the admin token must not show in `ps` (any user can read a cmdline).
    const options: EngineOptions = { ...this.options, generationBase: this.generation };
    const env = { ...process.env, [ENGINE_OPTIONS_ENV]: JSON.stringify(options) };
    const child = fork(entry, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.engine = child;
    child.on('message', (msg: FromEngine) => this.onEngineMessage(msg));
    child.on('exit', (code, signal) => this.onEngineExit(child, code, signal));
  }

  /** Refuses to run (EX_CONFIG) while another gateway holds the data dir. */
  private lockDataDir(): void {
    const dir = this.options.dataDir;
    const outcome = lockDataDir(dir);
    if (outcome.kind === 'held') {
      log('ERROR', `the data dir is in use by another ngate (pid ${outcome.pid}); two gateways on one data dir would overwrite each other's changes: give each its own --data-dir`, { dataDir: dir, lockFile: outcome.file, pid: outcome.pid });
      process.exit(EXIT_CONFIG);
    }
    this.dataDirLocked = true;
    if (outcome.kind === 'unlockable') {
      // The engine warns that such a data dir refuses every change; with nothing saved, nothing can be lost.
      log('WARN', 'cannot lock the data dir', { dataDir: dir, lockFile: outcome.file, reason: outcome.reason });
      return;
    }
    if (outcome.staleFrom !== null) log('WARN', 'took over a stale data dir lock (its process is gone)', { dataDir: dir, lockFile: outcome.file, stalePid: outcome.staleFrom });
    process.on('exit', () => unlockDataDir(outcome.file));
  }

  private onEngineMessage(msg: FromEngine): void {
    if (msg.type === 'generation') this.generation = Math.max(this.generation, msg.generation);
    else if (msg.type === 'ready') {
      this.everReady = true;
      const listeners = msg.listeners.map((l) => `${l.name}@${l.address}:${l.port}`).join(',');
      log('INFO', 'ngate ready', { pid: this.engine?.pid, generation: msg.generation, workers: msg.workers, admin: msg.admin, listeners });
      this.engineReady = true;
      this.hooks.onReady?.(msg.listeners);
      if (this.reloadPending) {
        this.reloadPending = false;
        this.reload();
      }
    } else if (msg.type === 'drained') {
      log('INFO', 'drained; stopping engine', { pid: this.engine?.pid });
      this.endedByStop = true;
      // Worker threads holding uWS handles cannot exit cleanly; the drain is complete, so end the process.
      this.engine?.kill('SIGKILL');
    }
  }

  private onEngineExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.engine !== child) return;
    this.engine = null;
    if (this.stopping) {
      if (this.endedByStop) {
        log('INFO', 'ngate stopped');
        process.exit(0);
      }
      // It died before its drain completed: in-flight requests were cut, which systemd must record as a failure.
      log('ERROR', 'engine died while draining; in-flight requests were cut', { code, signal });
      process.exit(EXIT_CRASHED);
    }
    if (!this.everReady) {
      log('ERROR', 'engine could not start; not restarting', { code, signal });
      // A config the engine refused (a bad file, a taken port, an unusable data dir) keeps its EX_CONFIG status,
      // so systemd's RestartPreventExitStatus=78 ends the restart loop there.
      process.exit(code === EXIT_CONFIG ? EXIT_CONFIG : EXIT_CRASHED);
    }
    // Once the gateway ran, a restarted engine that refuses to start (a port another process took while it was
    // down) is retried like a crash: exiting 78 would turn a crash and a passing conflict into an outage systemd never ends.
    if (Date.now() - this.startedAt > STABLE_MS) this.backoff = BACKOFF_MIN_MS;
    this.restarts++;
    const what = code === EXIT_CONFIG ? 'engine could not restart on its config; retrying' : 'engine died; restarting';
    log('ERROR', what, { code, signal, restart: this.restarts, inMs: this.backoff });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.start();
    }, this.backoff);
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
  }

  /** SIGHUP: the engine re-reads the config files and swaps them in (or logs why not). */
  reload(): void {
    if (this.stopping) {
      // A drain never reopens listeners: the config stays as it is until the stop completes.
      log('WARN', 'reload ignored: shutting down');
      return;
    }
    if (this.engine === null || !this.engineReady) {
      if (!this.reloadPending) log('INFO', 'SIGHUP before the engine is ready; reloading once it is');
      this.reloadPending = true;
      return;
    }
    const msg: ToEngine = { type: 'reload' };
    this.engine.send(msg);
  }

  /** SIGUSR1: the engine reopens its access log files (after logrotate moved them). */
  reopenLogs(): void {
    if (this.stopping || this.engine === null) return;
    const msg: ToEngine = { type: 'reopenLogs' };
    this.engine.send(msg);
  }

  /** Graceful stop: the engine stops accepting, finishes in-flight requests, then ends. */
  stop(signal = 'SIGTERM'): void {
    if (this.stopping) {
      // The drain keeps its bound (a second Ctrl-C does not cut requests); the operator sees it is under way.
      if (this.drainDeadline > 0) log('INFO', 'already stopping; the drain goes on', { signal, leftMs: Math.max(0, this.drainDeadline - Date.now()) });
      return;
    }
    this.stopping = true;
    if (this.restartTimer !== null) {
      clearTimeout(this.restartTimer);
      process.exit(0);
    }
    const engine = this.engine;
    if (engine === null) {
      log('INFO', 'ngate stopped before the engine started');
      process.exit(0);
    }
    if (!this.engineReady) {
      // It listens for no drain yet and has served nothing: end it now rather than after the drain timeout.
      log('INFO', 'stopping before the engine is ready', { pid: engine.pid });
      this.endedByStop = true;
      engine.kill('SIGKILL');
      return;
    }
    log('INFO', 'stopping: draining in-flight requests', { signal, timeoutMs: this.options.drainTimeoutMs });
    this.drainDeadline = Date.now() + this.options.drainTimeoutMs;
    const msg: ToEngine = { type: 'drain', timeoutMs: this.options.drainTimeoutMs };
    engine.send(msg);
    // Whatever happens inside the engine, we end within the drain timeout plus a margin.
    setTimeout(() => {
      this.endedByStop = true;
      engine.kill('SIGKILL');
    }, this.options.drainTimeoutMs + 2_000).unref();
  }
}
