import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestAdaptorFilter } from '../src/dataplane/filters/request-adaptor/filter';
import { requestAdaptorSchema } from '../src/dataplane/filters/request-adaptor/schema';
import { checked, makeContext } from './helpers/context';

function spec(extra: Record<string, unknown>) {
  return checked(requestAdaptorSchema, { name: 'ra', kind: 'RequestAdaptor', ...extra });
}

function rewrite(path: Record<string, unknown>, from: string): { result: string; path: string; status: number; code: string | null } {
  const ctx = makeContext({ path: from });
  const result = new RequestAdaptorFilter('ra', spec({ path })).handle(ctx) as string;
  return { result, path: ctx.path, status: ctx.status, code: ctx.errorCode };
}

describe('RequestAdaptor path', () => {
  it('trimming the whole path gives / alone, or the added prefix alone', () => {
    assert.equal(rewrite({ trimPrefix: '/radapt' }, '/radapt').path, '/');
    assert.equal(rewrite({ trimPrefix: '/radapt', addPrefix: '/v2' }, '/radapt').path, '/v2');
    assert.equal(rewrite({ trimPrefix: '/radapt', addPrefix: '/v2' }, '/radapt/x').path, '/v2/x');
    assert.equal(rewrite({ trimPrefix: '/radapt', addPrefix: '/v2/' }, '/radapt').path, '/v2/');
    assert.equal(rewrite({ trimPrefix: '/radapt/' }, '/radapt/x').path, '/x');
    // A trim inside a segment still leaves a path (as nginx's proxy_pass with a URI does).
    assert.equal(rewrite({ trimPrefix: '/api' }, '/apiv2').path, '/v2');
    assert.equal(rewrite({ trimPrefix: '/api' }, '/other').path, '/other');
  });

  it('answers 500 when a regexpReplace result is not an origin-form path, and forwards nothing', () => {
    const ok = rewrite({ regexpReplace: { regexp: '^/old/(.*)$', replace: '/new/$1' } }, '/old/a');
    assert.deepEqual([ok.result, ok.path], ['', '/new/a']);
    for (const [re, rep, from] of [
      ['^/', '', '/x'],
      ['^/(.*)$', '$1', '/a'],
      ['^/x$', '', '/x'],
    ] as const) {
      const r = rewrite({ regexpReplace: { regexp: re, replace: rep } }, from);
      assert.deepEqual([r.result, r.status, r.code], ['invalid', 500, 'NGATE_ERR_INTERNAL'], `${re} -> ${rep}`);
    }
  });
});

describe('RequestAdaptor validation', () => {
  it('refuses a path literal or replacement that would add a query, a fragment or a space', () => {
    for (const path of [
      { regexpReplace: { regexp: '^/x', replace: '/x?injected=1' } },
      { regexpReplace: { regexp: '^/x', replace: '/x#f' } },
      { regexpReplace: { regexp: '^/x', replace: '/a b' } },
      { replace: '/a?b' },
      { addPrefix: '/v2#' },
      { trimPrefix: '/a b' },
      { addPrefix: 'v2' },
    ]) {
      assert.throws(() => spec({ path }), /without \?, #, spaces/, JSON.stringify(path));
    }
    assert.doesNotThrow(() => spec({ path: { regexpReplace: { regexp: '^/x', replace: '' } } }));
    assert.doesNotThrow(() => spec({ path: { regexpReplace: { regexp: '^/(\\w+)', replace: "/$1/%3F;a=b@c:d!$&'()*+,~" } } }));
  });

  it('refuses a host that is not host[:port]', () => {
    for (const host of ['evil.com/path?x', 'a b', 'a?x', 'a#b', 'x:0', 'x:65536', 'x:', '[zz]', '[::1', '[1:2:3]', '[::1::2]', '[1.2.3.4]', 'a..b', '.a', 'http://a', 'a@b']) {
      assert.throws(() => spec({ host }), /expected host\[:port\]/, host);
    }
    for (const host of ['backend.internal', 'backend.internal:8080', '10.0.0.1:80', '[::1]:8443', '[2001:db8::1]', 'my_service', 'example.com.']) {
      assert.equal(spec({ host }).host, host);
    }
  });

  it('refuses method CONNECT in any case, and accepts other methods', () => {
    for (const method of ['CONNECT', 'connect', 'Connect']) assert.throws(() => spec({ method }), /other than CONNECT/, method);
    for (const method of ['POST', 'patch', 'PURGE', 'CONNECTX']) assert.equal(spec({ method }).method, method);
  });
});
