import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/** Room for the answer: a status word, the message's length, then its UTF-8 bytes. */
const MESSAGE_BYTES = 4096;
const HEADER_BYTES = 8;
/** Status word: the thread has not started yet, is loading, loaded, refused. */
const STARTING = 0;
const LOADING = 3;
const LOADED = 1;
/** A thread start on a busy machine can be slow; it does not count against the script. */
const START_LIMIT_MS = 15_000;

/** Answers by source text: validation runs again on every object change and reload, mostly on unchanged scripts. */
const answers = new Map<string, string | null>();
const ANSWERS_LIMIT = 64;

/**
 * Loads `code` once, the way an offload thread will, and says why it would
 * fail every request (does not compile, throws while loading, exports no
 * handler, uses import()), or null when it loads. The load runs in a
 * throwaway thread of its own: the script's top-level code and whatever it
 * queues run there, and past `timeoutMs` the thread is terminated, so a
 * script that never finishes loading cannot hold up validation.
 */
export function scriptLoadProblem(code: string, timeoutMs: number): string | null {
  const known = answers.get(code);
  if (known !== undefined) return known;
  const problem = checkInThread(code, timeoutMs);
  if (answers.size >= ANSWERS_LIMIT) answers.delete(answers.keys().next().value as string);
  answers.set(code, problem);
  return problem;
}

function checkInThread(code: string, timeoutMs: number): string | null {
  const shared = new SharedArrayBuffer(HEADER_BYTES + MESSAGE_BYTES);
  const status = new Int32Array(shared, 0, 2);
  const worker = new Worker(path.join(__dirname, 'load-check-thread.js'), { workerData: { code, shared } });
  worker.unref();
  // A thread that fails after its report (or never reports) must not take the caller down: the wait covers it.
  worker.on('error', () => undefined);
  Atomics.wait(status, 0, STARTING, START_LIMIT_MS);
  Atomics.wait(status, 0, LOADING, timeoutMs);
  void worker.terminate();
  const state = Atomics.load(status, 0);
  if (state === STARTING) return `the script could not be loaded: its check thread did not start within ${START_LIMIT_MS}ms`;
  if (state === LOADING) return `the script did not finish loading within ${timeoutMs}ms`;
  if (state === LOADED) return null;
  const length = Math.min(Atomics.load(status, 1), MESSAGE_BYTES);
  return Buffer.from(new Uint8Array(shared, HEADER_BYTES, length)).toString('utf8');
}

/** The thread's side, before loading. */
export function reportLoading(shared: SharedArrayBuffer): void {
  const status = new Int32Array(shared, 0, 2);
  Atomics.store(status, 0, LOADING);
  Atomics.notify(status, 0);
}

/** The thread's side, after: 1 = loaded, 2 = refused with the message that follows. */
export function reportLoad(shared: SharedArrayBuffer, problem: string | null): void {
  const status = new Int32Array(shared, 0, 2);
  if (problem !== null) {
    const bytes = Buffer.from(problem, 'utf8').subarray(0, MESSAGE_BYTES);
    new Uint8Array(shared, HEADER_BYTES, MESSAGE_BYTES).set(bytes);
    Atomics.store(status, 1, bytes.length);
  }
  Atomics.store(status, 0, problem === null ? LOADED : 2);
  Atomics.notify(status, 0);
}
