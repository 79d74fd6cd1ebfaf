/**
 * Worker thread entry: one uWS App per HTTPServer, a runtime per config
 * generation built on the side (prepare) and published with one assignment
 * (commit). A worker never exits while it holds uWS handles (that would abort
 * the process); the supervisor ends the engine after a drain.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ListenerInfo, ToWorker } from '../shared/messages';
import type { CompiledConfig } from '../config/compiled';
import { loadUws } from '../dataplane/listener/uws-loader';
import { UwsListener } from '../dataplane/listener/uws-listener';
import { NodeListener } from '../dataplane/listener/node-listener';
import type { Listener } from '../dataplane/listener/listener';
import { Runtime, RuntimeHolder } from '../dataplane/runtime';
import { PoolRegistry } from '../dataplane/upstream/pool-registry';
import { viewSharedState } from '../shared/sab-layout';
import { WorkerStats } from '../dataplane/stats/worker-stats';
import { AccessLogBuffer } from '../dataplane/access-log/access-log-buffer';
import { goAway, openUpstreams } from '../dataplane/websocket/idle-sweeper';

const port = parentPort;
if (port === null) throw new Error('worker/main must run in a worker thread');
const { index: workerIndex, shared: sharedBuffer, stats: statsBuffer, workers } = workerData as {
  index: number;
  shared: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  workers: number;
};
/** The data dir's sticky-session key (src/engine/sticky-secret.ts): empty until a generation needs it. */
let stickySecret: Uint8Array = new Uint8Array(0);
const shared = viewSharedState(sharedBuffer);
const stats = new WorkerStats(statsBuffer, workerIndex);

const { uws, source } = loadUws();
const holder = new RuntimeHolder();
const upstreams = new PoolRegistry();
const listeners = new Map<string, Listener>();
const accessLog = new AccessLogBuffer((target, text) => send({ type: 'accessLog', target, text }));
let prepared: { gen: number; runtime: Runtime; compiled: CompiledConfig; updates: (() => void)[] } | null = null;

function send(msg: FromWorker): void {
  port?.postMessage(msg);
}

/**
 * A listener is kept across generations while this stays the same: a changed engine is a new listener
 * (node listeners cannot rebind a port still open: that swap is refused). New TLS material or a new
 * `pipelining` is a new uWS listener; a node listener takes certificates, timeouts and maxConnections
 * in place (prepareUpdate) and ignores pipelining, so only https on/off counts there.
 */
function listenerKey(s: { name: string; address: string; port: number; engine?: string; pipelining?: string; tls?: { id: string } | null }): string {
  const base = `${s.name}|${s.address}|${s.port}`;
  if (s.engine === 'node') return `${base}|node|${s.tls === null || s.tls === undefined ? '' : 'tls'}`;
  return `${base}|uws|${s.pipelining ?? 'close'}|${s.tls?.id ?? ''}`;
}

async function prepare(gen: number, compiled: CompiledConfig): Promise<void> {
  // A draining worker closed its listeners for good: a generation that would bind them again is refused.
  if (holder.draining) {
    send({ type: 'refused', worker: workerIndex, gen, error: 'ngate is shutting down: no config changes' });
    return;
  }
  let runtime: Runtime | null = null;
  try {
    // Stateful filters (rate-limit buckets) carry over from the running generation.
    runtime = new Runtime(compiled, { upstreams, shared, stats, workers, stickySecret }, accessLog, holder.current);
    // New listeners start accepting only at commit, but bind now so a taken port refuses the swap.
    const started: [string, Listener][] = [];
    // In-place changes of kept listeners, applied at commit.
    const updates: (() => void)[] = [];
    try {
      for (const s of compiled.servers) {
        const kept = listeners.get(listenerKey(s));
        if (kept !== undefined) {
          const update = kept.prepareUpdate?.(s) ?? null;
          if (update !== null) updates.push(update);
          continue;
        }
        // node:http on Node 20 cannot share a port across threads (no SO_REUSEPORT): worker 0 serves node-engine listeners.
        if (s.engine === 'node' && workerIndex !== 0) continue;
        const l: Listener = s.engine === 'node' ? new NodeListener(s, holder) : new UwsListener(uws, s.name, s.address, s.port, holder, s.pipelining === 'hold', s.tls);
        await l.listen();
        started.push([listenerKey(s), l]);
        listeners.set(listenerKey(s), l);
      }
    } catch (err) {
      for (const [key, l] of started) {
        l.close();
        listeners.delete(key);
      }
      throw err;
    }
    prepared = { gen, runtime, compiled, updates };
    send({ type: 'prepared', worker: workerIndex, gen });
  } catch (err) {
    // Filters of a refused generation release what they hold (offload pool leases, timers).
    runtime?.close();
    upstreams.abortBuild();
    send({ type: 'refused', worker: workerIndex, gen, error: (err as Error).message });
  }
}

function commit(gen: number): void {
  if (prepared === null || prepared.gen !== gen) return;
  if (holder.draining) {
    // Prepared before the drain began: its new listeners were closed by drain(); nothing of it is published.
    abort(gen);
    send({ type: 'refused', worker: workerIndex, gen, error: 'ngate is shutting down: no config changes' });
    return;
  }
  const old = holder.current;
  const next = prepared.runtime;
  holder.current = next;
  for (const update of prepared.updates) update();
  const keep = new Set(prepared.compiled.servers.map(listenerKey));
  prepared = null;
  for (const [key, l] of listeners) {
    if (!keep.has(key)) {
      l.close();
      listeners.delete(key);
    }
  }
  // The new generation holds its pools before the old one may let go of the ones they share.
  next.releasePools = upstreams.commit();
  // Requests still running on the old generation keep its filters and pools until they finish.
  if (old !== null) holder.retire(old);
  // Every server of the generation, including node-engine ones another worker serves.
  const info: ListenerInfo[] = (holder.current === null ? [] : [...holder.current.servers.values()]).map(({ spec: s }) => ({ name: s.name, address: s.address, port: s.port }));
  send({ type: 'committed', worker: workerIndex, gen, listeners: info });
}

function abort(gen: number): void {
  if (prepared === null || prepared.gen !== gen) return;
  const keep = new Set((holder.current === null ? [] : [...holder.current.servers.values()].map((s) => listenerKey(s.spec))));
  for (const [key, l] of listeners) {
    if (!keep.has(key)) {
      l.close();
      listeners.delete(key);
    }
  }
  prepared.runtime.close();
  prepared = null;
  upstreams.abortBuild();
}

function drain(timeoutMs: number): void {
  holder.draining = true;
  for (const l of listeners.values()) l.close();
  listeners.clear();
  // Open WebSockets get 1001 "going away" from ngate, and their upstream close handshakes are awaited.
  goAway();
  const deadline = Date.now() + timeoutMs;
  const check = (): void => {
    if ((holder.inFlight <= 0 && openUpstreams() <= 0) || Date.now() >= deadline) {
      accessLog.flush();
      send({ type: 'drained', worker: workerIndex, inFlight: holder.inFlight });
      return;
    }
    setTimeout(check, 20);
  };
  check();
}

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'prepare':
      void prepare(msg.gen, msg.compiled);
      break;
    case 'commit':
      commit(msg.gen);
      break;
    case 'abort':
      abort(msg.gen);
      break;
    case 'drain':
      drain(msg.timeoutMs);
      break;
    case 'stickySecret':
      stickySecret = msg.key;
      break;
  }
});

process.on('uncaughtException', (err) => {
  send({ type: 'fatal', worker: workerIndex, error: err.stack ?? err.message });
});

stats.startFlushing((snap) => send({ type: 'histograms', worker: workerIndex, ...snap }));
send({ type: 'started', worker: workerIndex, uws: source });
