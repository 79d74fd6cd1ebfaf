import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { ScriptFilter } from '../../src/dataplane/filters/script/filter';
import { closeOffloadPools } from '../../src/dataplane/offload/offload-pool';
import { scriptSchema } from '../../src/dataplane/filters/script/schema';
import { checked, makeContext } from '../helpers/context';

function script(code: string, extra: Record<string, unknown> = {}): ScriptFilter {
  // A generous deadline unless a case sets one: the pool's first thread may still be starting on a busy machine.
  return new ScriptFilter('s', checked(scriptSchema, { name: 's', kind: 'Script', code, timeout: '10s', ...extra }));
}

describe('Script filter (offload pool)', () => {
  after(() => closeOffloadPools());

  it('sets request headers and the path, and continues', async () => {
    const f = script(`module.exports = (req) => ({ setHeaders: { 'X-Tenant': req.headers['x-user'].split('@')[1], 'X-Drop': '' }, path: '/v2' + req.path })`);
    const ctx = makeContext({ path: '/orders', headers: { 'x-user': 'ann@acme.test', 'x-drop': '1' } });
    assert.equal(await f.handle(ctx), '');
    assert.equal(ctx.headers.get('x-tenant'), 'acme.test');
    assert.equal(ctx.headers.get('x-drop'), undefined);
    assert.equal(ctx.path, '/v2/orders');
    assert.equal(ctx.status, 0);
  });

  it('answers locally with the status, headers and body it returns, reading the request body', async () => {
    const f = script(`module.exports = async (req) => JSON.parse(req.body).admin ? { status: 403, headers: { 'Content-Type': 'text/plain' }, body: 'no admins', result: 'denied' } : {}`, { withBody: true });
    const ctx = makeContext({ method: 'POST' });
    ctx.body = Readable.from([Buffer.from('{"admin":true}')]);
    ctx.bodyLength = 14;
    assert.equal(await f.handle(ctx), 'denied');
    assert.equal(ctx.status, 403);
    assert.equal(ctx.responseBody, 'no admins');
    assert.equal(ctx.responseHeaders.get('content-type'), 'text/plain');
  });

  it('answers the generic 500 for a script that throws, loops past its timeout, or touches framing headers (the reason goes to the log), and keeps working', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.message);
    };
    process.on('warning', onWarning);
    after(() => process.off('warning', onWarning));
    for (const [code, message] of [
      ['module.exports = () => { throw new Error("boom") }', /script "s" failed: boom/],
      ['module.exports = () => { for (;;) {} }', /timed out after 100ms/],
      [`module.exports = () => ({ setHeaders: { 'Content-Length': '0' } })`, /invalid header "Content-Length"/],
      [`module.exports = () => ({ status: 42 })`, /returned status 42/],
      [`module.exports = () => ({ path: '/a b' })`, /returned an invalid path "\/a b"/],
      [`module.exports = () => ({ path: 'relative' })`, /returned an invalid path "relative"/],
      [`module.exports = () => ({ path: '/x?y=1' })`, /returned an invalid path/],
      [`module.exports = () => ({ status: 200, headers: { 'x-a': 'b\\r\\nx-injected: yes' }, body: 'x' })`, /answered with an invalid header "x-a"/],
      [`module.exports = () => ({ status: 200, headers: { 'Content-Length': '1' }, body: 'hello' })`, /answered with an invalid header "Content-Length"/],
      ['module.exports = () => require("fs")', /require is not defined/],
    ] as const) {
      const ctx = makeContext();
      // Only the spinning script needs a short deadline; the others must not race the replacement thread's start.
      const timeout = code.includes('for (;;)') ? '100ms' : '10s';
      assert.equal(await script(code, { timeout }).handle(ctx), 'failed', code);
      assert.equal(ctx.status, 500, code);
      assert.deepEqual(JSON.parse(String(ctx.responseBody)), { code: 'NGATE_ERR_INTERNAL', message: 'internal gateway error' }, code);
      await new Promise((resolve) => setImmediate(resolve));
      assert.match(warnings.at(-1) ?? '', message, code);
    }
    const ok = makeContext();
    assert.equal(await script('module.exports = () => ({ result: "fine" })').handle(ok), 'fine', 'the pool replaced the stuck thread');
  });

  it('filters with different thread counts, and a filter closed by a config swap, never break each other', async () => {
    const one = script('module.exports = () => ({ result: "one" })', { threads: 1 });
    const two = script('module.exports = () => ({ result: "two" })', { threads: 2 });
    assert.equal(await one.handle(makeContext()), 'one');
    assert.equal(await two.handle(makeContext()), 'two');
    // The next generation takes over the same pool before the old filter is closed.
    const next = script('module.exports = () => ({ result: "next" })', { threads: 1 });
    one.close();
    assert.equal(await next.handle(makeContext()), 'next');
    two.close();
    next.close();
  });

  it('refuses a script that does not compile, at validation', () => {
    const issues: { path: (string | number)[]; message: string }[] = [];
    assert.equal(scriptSchema.check({ name: 's', kind: 'Script', code: 'module.exports = (' }, [], issues), undefined);
    assert.match(issues[0]?.message ?? '', /script does not compile/);
  });
});
