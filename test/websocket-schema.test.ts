import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { poolSchema } from '../src/config/pool-schema';
import { checked } from './helpers/context';

function issuesOf(raw: unknown): string[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  poolSchema.check(raw, [], issues);
  return issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const servers = [{ url: 'http://127.0.0.1:9095' }];

describe('pool websocket limits', () => {
  it('defaults to 5 minutes idle and 1 MiB messages, and fills a partial map', () => {
    assert.deepEqual(checked(poolSchema, { servers }).websocket, { idleTimeout: 300_000, maxMessageSize: 1024 * 1024 });
    assert.deepEqual(checked(poolSchema, { servers, websocket: { maxMessageSize: '64k' } }).websocket, { idleTimeout: 300_000, maxMessageSize: 65_536 });
  });

  it('refuses limits past what the uWS listener enforces itself, and unknown keys', () => {
    assert.match(issuesOf({ servers, websocket: { maxMessageSize: '17m' } }).join('\n'), /websocket\.maxMessageSize: must be between 1 and 16m/);
    assert.match(issuesOf({ servers, websocket: { idleTimeout: '16m' } }).join('\n'), /websocket\.idleTimeout: must be between 1ms and 15m/);
    assert.match(issuesOf({ servers, websocket: { pingInterval: '1s' } }).join('\n'), /websocket\.pingInterval: unknown field/);
  });
});
