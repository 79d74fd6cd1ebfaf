import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const COMPARE = path.resolve(__dirname, '..', 'loadtest', 'compare.js');

function compare(...files: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [COMPARE, ...files], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('loadtest compare', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ngate-compare-'));
  const result = (name: string, reqs: number): string => {
    const file = path.join(dir, name);
    const run = { requestsPerSec: reqs, latencyMs: { p50: 1, p90: 2, p99: 3, 'p99.9': 4, max: 5 }, throughputBytesPerSec: 100, errors: 0, timeouts: 0, non2xx: 0 };
    writeFileSync(file, JSON.stringify({ scenario: 'small-get', startedAt: '2026-01-01T00:00:00Z', runs: { ngate: run } }));
    return file;
  };

  it('names a file it cannot use in one line and exits 2, without a stack trace', () => {
    const good = result('a.json', 100);
    const notJson = path.join(dir, 'bad.json');
    writeFileSync(notJson, 'not json');
    const notResult = path.join(dir, 'other.json');
    writeFileSync(notResult, '{"x":1}');
    for (const [before, after, names] of [
      [path.join(dir, 'missing.json'), good, /cannot compare: .*missing\.json: ENOENT/],
      [good, notJson, /cannot compare: .*bad\.json: .*JSON/],
      [good, notResult, /cannot compare: .*other\.json: not a loadtest result file/],
    ] as const) {
      const r = compare(before, after);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, names);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });

  it('prints before, after and their ratio for two result files', () => {
    const r = compare(result('b.json', 100), result('c.json', 150));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^req\/s\s+100\s+150\s+1\.500×\s+yes$/m);
  });
});
