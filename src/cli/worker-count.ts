/**
 * How many workers `--workers auto` starts: one per CPU this process may use.
 * `availableParallelism()` follows the CPU affinity mask (taskset, cpusets)
 * but not a CPU quota, and a container limited with `--cpus=2` (Kubernetes
 * `limits.cpu`) on a 64-core host would get 64 workers, each throttled by
 * the quota and paying for threads it cannot run. The quota of the cgroup
 * the container sees as its root is read as Go's automaxprocs does: cgroup
 * v2 `cpu.max` ("<quota> <period>" or "max ..."), else cgroup v1
 * `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1: no quota). Rounded up, so
 * 1.5 CPUs get 2 workers.
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

/** CPUs the cgroup quota allows (fractional), or null when there is no quota or none can be read. */
export function cgroupCpuQuota(root = '/sys/fs/cgroup'): number | null {
  const v2 = read(path.join(root, 'cpu.max'));
  if (v2 !== null) {
    const [quota, period] = v2.split(/\s+/);
    return ratio(quota, period ?? '100000');
  }
  for (const dir of ['cpu', 'cpu,cpuacct', 'cpuacct,cpu']) {
    const quota = read(path.join(root, dir, 'cpu.cfs_quota_us'));
    const period = read(path.join(root, dir, 'cpu.cfs_period_us'));
    if (quota !== null && period !== null) return ratio(quota, period);
  }
  return null;
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
