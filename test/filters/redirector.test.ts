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

  it('refuses a replacement that refers to a group the regexp does not have, naming the field', () => {
    const refused = (match: string, replacement: string): string => {
      const issues: { path: (string | number)[]; message: string }[] = [];
      assert.equal(redirectorSchema.check({ name: 'r', kind: 'Redirector', match, replacement }, [], issues), undefined, replacement);
      return issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    assert.match(refused('^/a/(.*)$', '/b/$3'), /^replacement: \$3 refers to a group "match" does not have \(the regexp has 1 capture group: \$1\)/);
    assert.match(refused('^/a$', '/b/$1'), /^replacement: \$1 .*no capture groups/);
    assert.match(refused('^/a/(.*)$', '/b/$0'), /^replacement: \$0 /);
    assert.match(refused('^/(?<id>[0-9]+)$', '/u/$<name>'), /^replacement: \$<name> names no group .*named groups: id/);
    assert.match(refused('^/a/(x)(y)$', '/$1/$2/$3'), /^replacement: \$3 .*2 capture groups: \$1 to \$2/);
    // What String.replace reads as a reference, and nothing else, is checked.
    for (const [match, replacement, path, location] of [
      ['^/a/(.*)$', '/b/$1', '/a/x', '/b/x'],
      ['^/a/(.*)$', '/b/$$3/$1', '/a/x', '/b/$3/x'],
      ['^/a/(.*)$', '/b/$12', '/a/x', '/b/x2'],
      ['^/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)$', '/$11', '/abcdefghijk', '/k'],
      ['^/(?<id>[0-9]+)$', '/u/$<id>', '/42', '/u/42'],
      ['^/a$', '/b?cost=$&', '/a', '/b?cost=/a'],
    ] as const) {
      const ctx = makeContext({ path });
      assert.equal(filter({ match, replacement }).handle(ctx), 'redirected', replacement);
      assert.equal(ctx.responseHeaders.get('location'), location);
    }
  });

  it('replaces a response an upstream already gave, cancelling its streamed body', () => {
    const ctx = makeContext({ path: '/old/a' });
    let cancelled = 0;
    ctx.status = 200;
    ctx.responseHeaders.add('x-upstream', 'yes');
    ctx.streamedBody = { length: -1, pipeTo: () => undefined, resume: () => undefined, cancel: () => void cancelled++ };
    assert.equal(filter({ match: '^/old/(.*)$', replacement: '/new/$1' }).handle(ctx), 'redirected');
    assert.equal(cancelled, 1);
    assert.equal(ctx.streamedBody, null);
    assert.deepEqual(ctx.responseHeaders.items, ['location', '/new/a']);
  });
});
