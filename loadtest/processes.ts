import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** Repository root (this file runs compiled, from dist/loadtest/). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const NGATE_BIN = path.join(REPO_ROOT, 'bin', 'ngate.js');

/** A child process that the load test started and must stop. */
export interface Child {
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** What `ngate ready ... admin=H:P listeners=name@addr:port,...` says. */
export interface ReadyLine {
  admin: string;
  listeners: Map<string, number>;
}

export function parseReadyLine(output: string): ReadyLine | undefined {
  const m = /ngate ready .*listeners=(\S*)/.exec(output);
  if (m === null) return undefined;
  const listeners = new Map<string, number>();
  for (const item of (m[1] ?? '').split(',').filter(Boolean)) {
    const at = item.lastIndexOf('@');
    listeners.set(item.slice(0, at), Number(item.slice(item.lastIndexOf(':') + 1)));
  }
  return { admin: /ngate ready .*admin=(\S+)/.exec(output)?.[1] ?? '', listeners };
}

/** How long a child gets to exit after SIGTERM before it is killed. */
export const STOP_GRACE_MS = 5000;

function stopper(child: ChildProcess, cleanup: () => void = () => undefined): () => Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      // A child stuck in its drain (or ignoring SIGTERM) must not keep the run, or a Ctrl-C, waiting forever.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_GRACE_MS)));
      if ((await Promise.race([exited, late])) === 'late') child.kill('SIGKILL');
      clearTimeout(timer);
    }
    await exited;
    cleanup();
  };
}

/** Called with each child as soon as it is spawned, before it is ready, so a signal during its start still stops it. */
export type OnSpawn = (child: Child) => void;

/** Spawns a child and resolves once its output satisfies `ready` (or rejects when it exits first / after 15 s). */
function spawnUntil<T>(cmd: string, args: string[], ready: (output: string) => T | undefined, onSpawn: OnSpawn, cleanup?: () => void): Promise<{ value: T; proc: Child }> {
  const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = stopper(child, cleanup);
  onSpawn({ child, stop });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop().then(() => reject(new Error(`${path.basename(args[0] ?? cmd)} not ready after 15 s:\n${output}`)));
    }, 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const value = ready(output);
      if (value === undefined) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      // Keep draining the pipes so a chatty child never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
      resolve({ value, proc: { child, stop } });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(args[0] ?? cmd)} exited (${code ?? signal}) before ready:\n${output}`));
    });
  });
}

export interface GatewayProcess extends Child {
  readonly ready: ReadyLine;
  url(server: string, pathAndQuery: string): string;
}

/** `ngate start` on a config text with the admin API on a free port. */
export async function startGateway(configText: string, workers: number, onSpawn: OnSpawn): Promise<GatewayProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ngate-loadtest-'));
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, configText);
  const { value, proc } = await spawnUntil(
    process.execPath,
    // A private data dir: objects applied during a run (the swap scenario) must not outlive it.
    [NGATE_BIN, 'start', '--config', file, '--workers', String(workers), '--admin', '127.0.0.1:0', '--data-dir', path.join(dir, 'data')],
    parseReadyLine,
    onSpawn,
    () => rmSync(dir, { recursive: true, force: true }),
  );
  return { ...proc, ready: value, url: (server, p) => `http://127.0.0.1:${value.listeners.get(server) ?? 0}${p}` };
}

export interface BackendProcess extends Child {
  readonly url: string;
}

/**
 * The load-test backend (backend-server.js) in its own process, so it never
 * shares a loop with the load generator; `args` as backend-server.ts lists them.
 */
export async function startBackend(args: string[], onSpawn: OnSpawn): Promise<BackendProcess> {
  const { value, proc } = await spawnUntil(process.execPath, [path.join(__dirname, 'backend-server.js'), ...args], (out) => /listening (\d+)/.exec(out)?.[1], onSpawn);
  return { ...proc, url: `http://127.0.0.1:${value}` };
}
