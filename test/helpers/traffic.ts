import { readdirSync, readFileSync } from 'node:fs';
import { http } from './http';

export interface TrafficResult {
  readonly ok: number;
  readonly failed: string[];
  readonly latencies: number[];
}

/** Sequential keep-alive requests on `concurrency` loops until `until` resolves; records each latency. */
export async function steadyTraffic(url: string, until: Promise<unknown>, concurrency = 4): Promise<TrafficResult> {
  let stop = false;
  void until.then(() => (stop = true));
  const latencies: number[] = [];
  const failed: string[] = [];
  let ok = 0;
  const loop = async (): Promise<void> => {
    while (!stop) {
      const t = performance.now();
      try {
        const r = await http(url);
        if (r.status === 200) ok++;
        else failed.push(`${r.status} ${r.body}`);
      } catch (err) {
        failed.push((err as Error).message);
      }
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { ok, failed, latencies };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export function describeLatency(r: TrafficResult): string {
  return `${r.ok} ok, ${r.failed.length} failed, p50 ${percentile(r.latencies, 50).toFixed(2)} ms, p99 ${percentile(r.latencies, 99).toFixed(2)} ms`;
}

/** The engine process's resident memory in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function enginePidOf(logs: string): number {
  return Number(/ngate ready pid=(\d+)/.exec(logs)?.[1]);
}

/** Bytes the kernel holds in send and receive queues of loopback TCP sockets that use any of `ports` (/proc/net/tcp). */
export function kernelQueuedBytes(ports: readonly number[]): number {
  let total = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const local = parseInt((f[1] ?? '').split(':')[1] ?? '', 16);
    const remote = parseInt((f[2] ?? '').split(':')[1] ?? '', 16);
    if (!ports.includes(local) && !ports.includes(remote)) continue;
    const [tx = '0', rx = '0'] = (f[4] ?? '').split(':');
    total += parseInt(tx, 16) + parseInt(rx, 16);
  }
  return total;
}
