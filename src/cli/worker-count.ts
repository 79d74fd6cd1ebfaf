/**
 * How many workers `--workers auto` starts: one per CPU this process may use.
 * `availableParallelism()` follows the CPU affinity mask (taskset, cpusets)
 * but not a CPU quota, and a container limited with `--cpus=2` (Kubernetes
 * `limits.cpu`) on a 64-core host would get 64 workers, each throttled by
 * the quota and paying for threads it cannot run. The quota is read as Go's
 * automaxprocs does: cgroup v2 `cpu.max` ("<quota> <period>" or "max ..."),
 * else cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1: no quota).
 * Rounded up, so 1.5 CPUs get 2 workers.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * CPUs the cgroup quota allows (fractional), or null when there is no quota
 * or none can be read. cgroup v2: the process's own cgroup (from
 * `/proc/self/cgroup`, e.g. a systemd unit with `CPUQuota=`) and each parent
 * up to the root, the smallest quota wins; a container sees its own cgroup
 * as the root. cgroup v1: the cpu controller's root.
 */
export function cgroupCpuQuota(root = '/sys/fs/cgroup', selfCgroup = read('/proc/self/cgroup')): number | null {
  if (read(path.join(root, 'cgroup.controllers')) !== null || read(path.join(root, 'cpu.max')) !== null) {
    let lowest: number | null = null;
    for (const dir of v2Chain(root, selfCgroup)) {
      const line = read(path.join(dir, 'cpu.max'));
      if (line === null) continue;
      const [quota, period] = line.split(/\s+/);
      const cpus = ratio(quota, period ?? '100000');
      if (cpus !== null && (lowest === null || cpus < lowest)) lowest = cpus;
    }
    return lowest;
  }
  for (const dir of ['cpu', 'cpu,cpuacct', 'cpuacct,cpu']) {
    const quota = read(path.join(root, dir, 'cpu.cfs_quota_us'));
    const period = read(path.join(root, dir, 'cpu.cfs_period_us'));
    if (quota !== null && period !== null) return ratio(quota, period);
  }
  return null;
}

/** The process's cgroup v2 directory and its parents up to the root (the root alone when it is not named). */
function v2Chain(root: string, selfCgroup: string | null): string[] {
  const own = selfCgroup?.split('\n').find((l) => l.startsWith('0::'))?.slice(3).trim() ?? '/';
  const parts = own.split('/').filter((p) => p !== '' && p !== '..');
  const dirs: string[] = [];
  for (let n = parts.length; n >= 0; n--) dirs.push(path.join(root, ...parts.slice(0, n)));
  return dirs;
}

function ratio(quota: string | undefined, period: string): number | null {
  const q = Number(quota);
  const p = Number(period);
  if (quota === 'max' || !Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return null;
  return q / p;
}

/** One worker per usable CPU: the affinity mask, capped by a cgroup CPU quota; at least one. */
export function autoWorkers(cpus = availableParallelism(), quota = cgroupCpuQuota()): number {
  if (quota === null) return Math.max(1, cpus);
  return Math.max(1, Math.min(cpus, Math.ceil(quota)));
}
