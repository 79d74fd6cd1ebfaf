import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { poolSchema } from '../src/config/pool-schema';
import type { Issue } from '../src/config/schema-kit';
import { loadAndCompile } from '../src/config/config-file';
import { formatConfigError } from '../src/config/validate';
import { writeTempConfig } from './helpers/gateway';
import { frontServer, poolPipeline } from './helpers/pipelines';

function check(pool: Record<string, unknown>): { value: unknown; issues: Issue[] } {
  const issues: Issue[] = [];
  const value = poolSchema.check({ servers: [{ url: 'http://127.0.0.1:1' }], ...pool }, [], issues);
  return { value, issues };
}

describe('pool schema: traffic management', () => {
  it('refuses an unknown balancing policy', () => {
    const { value, issues } = check({ loadBalance: { policy: 'leastConn' } });
    assert.equal(value, undefined);
    assert.match(issues[0]?.message ?? '', /expected one of roundRobin, weightedRoundRobin/);
  });

  it('refuses a header or cookie policy without the name it hashes on', () => {
    assert.deepEqual(check({ loadBalance: { policy: 'headerHash' } }).issues[0]?.path, ['loadBalance', 'headerHashKey']);
    assert.deepEqual(check({ loadBalance: { policy: 'cookieHash' } }).issues[0]?.path, ['loadBalance', 'cookieName']);
    assert.deepEqual(check({ loadBalance: { policy: 'consistentHash', hashOn: 'cookie' } }).issues[0]?.path, ['loadBalance', 'cookieName']);
    assert.equal(check({ loadBalance: { policy: 'consistentHash' } }).issues.length, 0, 'consistentHash keys on the client IP by default');
  });

  it('defaults the sticky cookie name to _srv_id and reads ttl as a duration', () => {
    const { value } = check({ stickySession: { mode: 'cookie', ttl: '3600s' } });
    assert.deepEqual((value as { stickySession: unknown }).stickySession, { mode: 'cookie', cookieName: '_srv_id', ttl: 3_600_000, path: '/', secure: false });
  });

  it('takes the sticky cookie attributes path, secure and sameSite; SameSite=None without secure is refused', () => {
    const { value } = check({ stickySession: { mode: 'cookie', path: '/app', secure: true, sameSite: 'None' } });
    assert.deepEqual((value as { stickySession: unknown }).stickySession, { mode: 'cookie', cookieName: '_srv_id', ttl: 3_600_000, path: '/app', secure: true, sameSite: 'None' });
    const insecure = check({ stickySession: { mode: 'cookie', sameSite: 'None' } });
    assert.equal(insecure.value, undefined);
    assert.deepEqual(insecure.issues[0]?.path, ['stickySession', 'secure']);
    assert.deepEqual(check({ stickySession: { mode: 'cookie', sameSite: 'lax' } }).issues[0]?.path, ['stickySession', 'sameSite']);
    assert.deepEqual(check({ stickySession: { mode: 'cookie', path: '/a; Domain=evil' } }).issues[0]?.path, ['stickySession', 'path']);
    assert.deepEqual(check({ stickySession: { mode: 'cookie', path: 'app' } }).issues[0]?.path, ['stickySession', 'path']);
  });

  it('accepts a sticky secret of 16 characters or more and refuses a shorter one without repeating it', () => {
    const ok = check({ stickySession: { mode: 'cookie', secret: 'sixteen chars ok' } });
    assert.equal((ok.value as { stickySession: { secret: string } }).stickySession.secret, 'sixteen chars ok');
    const short = check({ stickySession: { mode: 'cookie', secret: 'hunter2' } });
    assert.equal(short.value, undefined);
    assert.deepEqual(short.issues[0]?.path, ['stickySession', 'secret']);
    assert.match(short.issues[0]?.message ?? '', /at least 16 characters/);
    assert.doesNotMatch(short.issues[0]?.message ?? '', /hunter2/);
    assert.equal(check({ stickySession: { mode: 'cookie', secret: 1234567890123456 } }).value, undefined);
  });

  it('accepts retry statuses written as numbers and refuses other ones', () => {
    const { value } = check({ retry: { maxAttempts: 3, on: ['connect-failure', 502, '503'] } });
    assert.deepEqual((value as { retry: { on: string[] } }).retry.on, ['connect-failure', '502', '503']);
    assert.equal(check({ retry: { on: [500] } }).value, undefined);
    assert.equal(check({ circuitBreaker: { consecutiveFailures: 0 } }).value, undefined);
  });
});

describe('pool schema: outlierDetection.failTimeout', () => {
  it('refuses a failTimeout below 1s (0 ejects for no time while still counting failures)', () => {
    for (const failTimeout of [0, '0s', '500ms']) {
      const { value, issues } = check({ outlierDetection: { maxFails: 3, failTimeout } });
      assert.equal(value, undefined, String(failTimeout));
      assert.deepEqual(issues[0]?.path, ['outlierDetection', 'failTimeout']);
      assert.match(issues[0]?.message ?? '', /must be at least 1000ms/);
    }
    const ok = check({ outlierDetection: { maxFails: 3, failTimeout: '1s' } });
    assert.deepEqual(ok.issues, []);
    assert.equal((ok.value as { outlierDetection: { failTimeout: number } }).outlierDetection.failTimeout, 1000);
  });

  it('says where, as file:line, when a config file has failTimeout: 0', () => {
    const file = writeTempConfig(`${frontServer()}---\n${poolPipeline('      servers: [{ url: "http://127.0.0.1:1" }]\n      outlierDetection:\n        maxFails: 3\n        failTimeout: 0\n')}`);
    const out = loadAndCompile([file], 1);
    assert.equal(out.compiled, null);
    const lines = out.errors.map((e) => formatConfigError(e));
    assert.equal(lines.length, 1, lines.join('\n'));
    const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('failTimeout: 0')) + 1;
    assert.match(lines[0] ?? '', new RegExp(`:${line}: .*failTimeout.*must be at least 1000ms`));
  });
});
