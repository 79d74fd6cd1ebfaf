/**
 * Every message between the coordinator and the workers, as one typed union
 * per direction. They are plain data sent with postMessage (structured clone):
 * nothing in them needs a codec of its own.
 */
import type { CompiledConfig } from '../config/compiled';

export type ToWorker =
  | { type: 'prepare'; gen: number; compiled: CompiledConfig }
  | { type: 'commit'; gen: number }
  | { type: 'abort'; gen: number }
  | { type: 'drain'; timeoutMs: number }
  /** The data dir's sticky-session key, sent before the first generation that needs it. */
  | { type: 'stickySecret'; key: Uint8Array };

export interface ListenerInfo {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

/** One latency histogram of one slot, hdr-histogram compressed base64 (values in microseconds). */
export interface HistogramSnapshot {
  readonly slot: number;
  readonly encoded: string;
}

/** One worker's latency since its last flush, per service, listener and route slot. */
export interface HistogramSnapshots {
  readonly services: HistogramSnapshot[];
  readonly listeners: HistogramSnapshot[];
  readonly routes: HistogramSnapshot[];
}

export type FromWorker =
  | { type: 'started'; worker: number; uws: string }
  | { type: 'prepared'; worker: number; gen: number }
  | { type: 'refused'; worker: number; gen: number; error: string }
  | { type: 'committed'; worker: number; gen: number; listeners: ListenerInfo[] }
  | { type: 'drained'; worker: number; inFlight: number }
  /** Each second: the latency recorded since the last one, per service, listener and route slot. */
  | ({ type: 'histograms'; worker: number } & HistogramSnapshots)
  /** Formatted access log lines for one target (a file path or 'stdout'), batched. */
  | { type: 'accessLog'; target: string; text: string }
  | { type: 'fatal'; worker: number; error: string };

/** Engine → supervisor (IPC), and supervisor → engine. */
export type FromEngine =
  | { type: 'ready'; generation: number; workers: number; listeners: ListenerInfo[]; admin: string }
  | { type: 'drained' }
  /** A change was committed (the supervisor hands the number to a restarted engine). */
  | { type: 'generation'; generation: number }
  | { type: 'failed'; error: string };

export type ToEngine = { type: 'drain'; timeoutMs: number } | { type: 'reload' } | { type: 'reopenLogs' };
