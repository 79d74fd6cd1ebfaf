import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { poolSchema } from '../src/config/pool-schema';
import type { Issue } from '../src/config/schema-kit';

function check(pool: Record<string, unknown>): { value: unknown; issues: Issue[] } {
  const issues: Issue[] = [];
  const value = poolSchema.check({ servers: [{ url: 'http://service1:8000' }], ...pool }, [], issues);
  return { value, issues };
}

describe('pool schema: protocol and discovery', () => {
  it('defaults to HTTP/1.1, static servers and a 5 s refresh', () => {
    const v = check({}).value as { protocol: string; discovery: string; refresh: number; maxConcurrentStreams: number };
    assert.deepEqual([v.protocol, v.discovery, v.refresh, v.maxConcurrentStreams], ['http1', 'static', 5_000, 100]);
  });

  it('reads h2, dns and the refresh as a duration', () => {
    const v = check({ protocol: 'h2', discovery: 'dns', refresh: '250ms', maxConcurrentStreams: 8 }).value as Record<string, unknown>;
    assert.deepEqual([v.protocol, v.discovery, v.refresh, v.maxConcurrentStreams], ['h2', 'dns', 250, 8]);
  });

  it('dnsFamily defaults to v4 and reads v6 and all', () => {
    assert.equal((check({}).value as { dnsFamily: string }).dnsFamily, 'v4');
    assert.equal((check({ dnsFamily: 'v6' }).value as { dnsFamily: string }).dnsFamily, 'v6');
    assert.equal((check({ dnsFamily: 'all' }).value as { dnsFamily: string }).dnsFamily, 'all');
    assert.deepEqual(check({ dnsFamily: 'V4_ONLY' }).issues[0]?.path, ['dnsFamily']);
  });

  it('refuses an unknown protocol or discovery kind', () => {
    assert.deepEqual(check({ protocol: 'http2' }).issues[0]?.path, ['protocol']);
    assert.deepEqual(check({ discovery: 'strict_dns' }).issues[0]?.path, ['discovery']);
    assert.deepEqual(check({ maxConcurrentStreams: 0 }).issues[0]?.path, ['maxConcurrentStreams']);
  });
});
