import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedirectorFilter } from '../../src/dataplane/filters/redirector/filter';
import { redirectorSchema } from '../../src/dataplane/filters/redirector/schema';
import { checked, makeContext } from '../helpers/context';

function filter(spec: Record<string, unknown>): RedirectorFilter {
  return new RedirectorFilter('r', checked(redirectorSchema, { name: 'r', kind: 'Redirector', ...spec }));
}

describe('Redirector', () => {
  it('replaces captures into Location with the default 301 and result redirected', () => {
    const f = filter({ match: '^/users/([0-9]+)', replacement: '/profile/$1' });
    const ctx = makeContext({ path: '/users/42', query: 'tab=a' });
    assert.equal(f.handle(ctx), 'redirected');
    assert.equal(ctx.status, 301);
    assert.equal(ctx.responseHeaders.get('location'), '/profile/42?tab=a');
  });

  it('uses the configured code and matchPart path, full', () => {
    for (const code of [302, 307, 308]) {
      const f = filter({ match: '^/old(.*)$', matchPart: 'path', replacement: 'https://new.example.com$1', statusCode: code });
      const ctx = makeContext({ path: '/old/a', query: 'x=1' });
      assert.equal(f.handle(ctx), 'redirected');
      assert.equal(ctx.status, code);
      assert.equal(ctx.responseHeaders.get('location'), 'https://new.example.com/a');
    }
    const full = filter({ match: '^http://([^/]+)(.*)$', matchPart: 'full', replacement: 'https://$1$2', statusCode: 308 });
    const ctx = makeContext({ path: '/p', query: 'q=1', headers: { host: 'site.test' } });
    full.handle(ctx);
    assert.equal(ctx.responseHeaders.get('location'), 'https://site.test/p?q=1');
  });

  it('passes a request that does not match', () => {
    const ctx = makeContext({ path: '/other' });
    assert.equal(filter({ match: '^/old', replacement: '/new' }).handle(ctx), '');
    assert.equal(ctx.status, 0);
  });

  it('refuses a status code that is not a redirect and a bad regexp', () => {
    assert.throws(() => filter({ match: '^/a', replacement: '/b', statusCode: 200 }), /statusCode: expected one of 301/);
    assert.throws(() => filter({ match: '(', replacement: '/b' }), /match/);
  });
});
