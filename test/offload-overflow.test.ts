import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import type { RequestContext } from '../src/dataplane/context';
import { scriptSchema } from '../src/dataplane/filters/script/schema';
import { ScriptFilter } from '../src/dataplane/filters/script/filter';
import { BasicAuthCheck } from '../src/dataplane/filters/validator/basic-auth-check';
import { JsonSchemaCheck } from '../src/dataplane/filters/validator/json-schema-check';
import { closeOffloadPools, OFFLOAD_MAX_QUEUE } from '../src/dataplane/offload/offload-pool';
import { ERROR_STATUS } from '../src/shared/errors';
import { checked, makeContext } from './helpers/context';

after(() => closeOffloadPools());

/** One task that holds the only thread, then more than the queue can take, all in the same turn. */
const EXTRA = 77;

function tally(codes: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of codes) counts[c] = (counts[c] ?? 0) + 1;
  return counts;
}

/** Everything the queue could hold ran; the rest were refused as overflow (503), none as an internal error. */
function assertOverflowOnly(codes: readonly string[]): void {
  const counts = tally(codes);
  const seen = JSON.stringify(counts);
  assert.equal(codes.length, 1 + OFFLOAD_MAX_QUEUE + EXTRA);
  assert.equal(counts.NGATE_ERR_INTERNAL, undefined, seen);
  assert.ok((counts.ok ?? 0) >= OFFLOAD_MAX_QUEUE, seen);
  assert.ok((counts.NGATE_ERR_POOL_OVERFLOW ?? 0) > 0, seen);
  assert.equal((counts.ok ?? 0) + (counts.NGATE_ERR_POOL_OVERFLOW ?? 0), codes.length, seen);
  assert.equal(ERROR_STATUS.NGATE_ERR_POOL_OVERFLOW, 503);
}

describe('a full offload queue answers 503 NGATE_ERR_POOL_OVERFLOW, not 500', () => {
  it('JSON Schema validation', async () => {
    const check = new JsonSchemaCheck({ type: 'object', properties: { word: { type: 'string', pattern: '^(a+)+$' } } }, 1024 * 1024, 16);
    const post = (text: string): RequestContext => {
      const ctx = makeContext({ method: 'POST', path: '/' });
      ctx.body = Readable.from([Buffer.from(text)]);
      return ctx;
    };
    try {
      // Catastrophic backtracking holds the thread for a while.
      const slow = check.check(post(JSON.stringify({ word: `${'a'.repeat(22)}!` })));
      const rest = Array.from({ length: OFFLOAD_MAX_QUEUE + EXTRA }, () => check.check(post(JSON.stringify({ word: 'aaaaaaaaaaaaaaaaaaaa' }))));
      const results = await Promise.all([slow, ...rest]);
      assert.equal(results[0]?.code, 'NGATE_ERR_VALIDATION');
      assertOverflowOnly(results.slice(1).map((f) => f?.code ?? 'ok').concat('ok'));
    } finally {
      check.close();
    }
  });

  it('basic auth with a bcrypt hash', async () => {
    const check = new BasicAuthCheck({ realm: 'r', users: { u: bcrypt.hashSync('pw', 4) } });
    const withPassword = (password: string): RequestContext =>
      makeContext({ headers: { authorization: `Basic ${Buffer.from(`u:${password}`).toString('base64')}` } });
    try {
      // Distinct wrong passwords: nothing is answered from the verified cache, every one is a task.
      const results = await Promise.all(Array.from({ length: 1 + OFFLOAD_MAX_QUEUE + EXTRA }, async (_, i) => check.check(withPassword(`wrong${i}`))));
      assertOverflowOnly(results.map((f) => (f?.code === 'NGATE_ERR_UNAUTHORIZED' ? 'ok' : (f?.code ?? 'unexpected pass'))));
    } finally {
      check.close();
    }
  });

  it('Script filter', async () => {
    const code = `module.exports = (req) => {
      if (req.path === '/slow') { const end = Date.now() + 150; while (Date.now() < end); }
      return {};
    };`;
    const filter = new ScriptFilter('s', checked(scriptSchema, { name: 's', kind: 'Script', code, timeout: '10s' }));
    try {
      const contexts = [makeContext({ path: '/slow' }), ...Array.from({ length: OFFLOAD_MAX_QUEUE + EXTRA }, () => makeContext({ path: '/' }))];
      const results = await Promise.all(contexts.map((ctx) => filter.handle(ctx)));
      assert.equal(results[0], '');
      assertOverflowOnly(contexts.map((ctx) => ctx.errorCode ?? 'ok'));
    } finally {
      filter.close();
    }
  });
});
