import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { autoWorkers, cgroupCpuQuota } from '../src/cli/worker-count';

const roots: string[] = [];
/** A stand-in for /sys/fs/cgroup holding the given files. */
function cgroup(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'ngate-cgroup-'));
  roots.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), `${text}\n`);
  }
  return root;
}

describe('--workers auto', () => {
  after(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  it('reads a cgroup v2 quota, and "max" as none', () => {
    assert.equal(cgroupCpuQuota(cgroup({ 'cpu.max': '200000 100000' }), '0::/\n'), 2);
    assert.equal(cgroupCpuQuota(cgroup({ 'cpu.max': '150000 100000' }), '0::/\n'), 1.5);
    assert.equal(cgroupCpuQuota(cgroup({ 'cpu.max': 'max 100000' }), '0::/\n'), null);
  });

  it('cgroup v2: the own cgroup of the process and its parents count, the smallest quota wins', () => {
    const root = cgroup({ 'cgroup.controllers': 'cpu', 'cpu.max': 'max 100000', 'system.slice/cpu.max': '400000 100000', 'system.slice/ngate.service/cpu.max': '50000 100000' });
    assert.equal(cgroupCpuQuota(root, '0::/system.slice/ngate.service\n'), 0.5);
    assert.equal(cgroupCpuQuota(root, '0::/system.slice\n'), 4);
    assert.equal(cgroupCpuQuota(root, '0::/\n'), null);
    assert.equal(cgroupCpuQuota(root, null), null);
  });

  it('reads a cgroup v1 quota, and -1 as none', () => {
    assert.equal(cgroupCpuQuota(cgroup({ 'cpu,cpuacct/cpu.cfs_quota_us': '300000', 'cpu,cpuacct/cpu.cfs_period_us': '100000' }), null), 3);
    assert.equal(cgroupCpuQuota(cgroup({ 'cpu/cpu.cfs_quota_us': '-1', 'cpu/cpu.cfs_period_us': '100000' }), null), null);
  });

  it('no cgroup files or unreadable values: no quota', () => {
    assert.equal(cgroupCpuQuota(cgroup({}), null), null);
    assert.equal(cgroupCpuQuota(cgroup({ 'cpu.max': 'garbage' }), null), null);
  });

  it('one worker per CPU, capped by the quota rounded up, never below one', () => {
    assert.equal(autoWorkers(64, 2), 2);
    assert.equal(autoWorkers(64, 1.5), 2);
    assert.equal(autoWorkers(64, 0.25), 1);
    assert.equal(autoWorkers(4, 16), 4);
    assert.equal(autoWorkers(8, null), 8);
  });
});
