import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorsFilter } from '../../src/dataplane/filters/cors/filter';
import { matchOrigin, MAX_ORIGIN_LENGTH, parseOriginPattern } from '../../src/dataplane/filters/cors/origin-pattern';
import { corsSchema, corsWarnings } from '../../src/dataplane/filters/cors/schema';
import { checked, makeContext } from '../helpers/context';

function filter(spec: Record<string, unknown>): CorsFilter {
  return new CorsFilter('c', checked(corsSchema, { name: 'c', kind: 'CORS', ...spec }));
}

const preflightHeaders = (origin: string, method = 'PUT'): Record<string, string> => ({
  origin,
  'access-control-request-method': method,
  'access-control-request-headers': 'x-token, content-type',
});

describe('CORS', () => {
  const f = filter({ allowedOrigins: ['https://app.test', 'https://*.example.com'], allowedMethods: ['GET', 'PUT'], allowCredentials: true, maxAge: '10m', exposedHeaders: ['x-id'] });

  it('answers an allowed preflight with 204 and the allow headers', () => {
    const ctx = makeContext({ method: 'OPTIONS', path: '/api', headers: preflightHeaders('https://app.test') });
    assert.equal(f.handle(ctx), 'preflight');
    assert.equal(ctx.status, 204);
    const h = ctx.responseHeaders;
    assert.equal(h.get('access-control-allow-origin'), 'https://app.test');
    assert.equal(h.get('access-control-allow-methods'), 'GET, PUT');
    assert.equal(h.get('access-control-allow-headers'), 'x-token, content-type');
    assert.equal(h.get('access-control-allow-credentials'), 'true');
    assert.equal(h.get('access-control-max-age'), '600');
    // The echoed allow-headers and the 204/403 outcome depend on these request fields: a cache must key on them.
    assert.deepEqual(h.getAll('vary'), ['Origin, Access-Control-Request-Method, Access-Control-Request-Headers']);
  });

  it('varies a preflight answer on exactly what it depends on, merged into a Vary already there', () => {
    const answer = (spec: Record<string, unknown>, origin: string, method = 'PUT', before?: string): string[] => {
      const ctx = makeContext({ method: 'OPTIONS', headers: preflightHeaders(origin, method) });
      if (before !== undefined) ctx.responseHeaders.add('vary', before);
      filter(spec).handle(ctx);
      return [String(ctx.status), ...ctx.responseHeaders.getAll('vary')];
    };
    const listed = { allowedOrigins: ['https://app.test'], allowedMethods: ['PUT'] };
    // Requested headers echoed (allowedHeaders absent) → Access-Control-Request-Headers.
    assert.deepEqual(answer(listed, 'https://app.test'), ['204', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers']);
    // A fixed allowedHeaders list echoes nothing.
    assert.deepEqual(answer({ ...listed, allowedHeaders: ['x-token'] }, 'https://app.test'), ['204', 'Origin, Access-Control-Request-Method']);
    // "*" without credentials answers "*": no Origin.
    assert.deepEqual(answer({ allowedMethods: ['PUT'] }, 'https://any.test'), ['204', 'Access-Control-Request-Method, Access-Control-Request-Headers']);
    // Refused (origin or method): 403, nothing echoed.
    assert.deepEqual(answer(listed, 'https://evil.test'), ['403', 'Origin, Access-Control-Request-Method']);
    assert.deepEqual(answer(listed, 'https://app.test', 'DELETE'), ['403', 'Origin, Access-Control-Request-Method']);
    // Merged with what an earlier step set, each token once.
    assert.deepEqual(answer(listed, 'https://app.test', 'PUT', 'Accept-Encoding'), ['204', 'Accept-Encoding, Origin, Access-Control-Request-Method, Access-Control-Request-Headers']);
    assert.deepEqual(answer(listed, 'https://app.test', 'PUT', 'origin'), ['204', 'origin, Access-Control-Request-Method, Access-Control-Request-Headers']);
  });

  it('never echoes the opaque origin "null" with credentials under "*", but still echoes real origins', () => {
    const open = filter({ allowCredentials: true });
    const simple = makeContext({ headers: { origin: 'null' } });
    assert.equal(open.handle(simple), '');
    simple.applyEdgeHeaders();
    assert.equal(simple.responseHeaders.get('access-control-allow-origin'), undefined);
    assert.equal(simple.responseHeaders.get('access-control-allow-credentials'), undefined);
    assert.deepEqual(simple.responseHeaders.getAll('vary'), ['Origin']);
    const pre = makeContext({ method: 'OPTIONS', headers: preflightHeaders('null') });
    assert.equal(open.handle(pre), 'preflight');
    assert.equal(pre.status, 403);
    assert.equal(pre.responseHeaders.get('access-control-allow-origin'), undefined);
    assert.equal(pre.responseHeaders.get('access-control-allow-credentials'), undefined);
    const real = makeContext({ headers: { origin: 'https://any.test' } });
    open.handle(real);
    real.applyEdgeHeaders();
    assert.equal(real.responseHeaders.get('access-control-allow-origin'), 'https://any.test');
    assert.equal(real.responseHeaders.get('access-control-allow-credentials'), 'true');
    // Without credentials "*" is answered, which grants nothing a null origin could abuse.
    const plain = makeContext({ headers: { origin: 'null' } });
    filter({}).handle(plain);
    plain.applyEdgeHeaders();
    assert.equal(plain.responseHeaders.get('access-control-allow-origin'), '*');
  });

  it('warns about "*" with credentials, and only then', () => {
    const spec = (extra: Record<string, unknown>) => checked(corsSchema, { name: 'c', kind: 'CORS', ...extra });
    const w = corsWarnings(spec({ allowCredentials: true }));
    assert.equal(w.length, 1);
    assert.deepEqual(w[0]?.path, ['allowedOrigins']);
    assert.match(w[0]?.message ?? '', /^"\*" with allowCredentials: true echoes every origin with credentials/);
    assert.deepEqual(corsWarnings(spec({ allowCredentials: true, allowedOrigins: ['https://app.test'] })), []);
    assert.deepEqual(corsWarnings(spec({})), []);
  });

  it('matches wildcard subdomains and refuses other origins and methods with 403', () => {
    const sub = makeContext({ method: 'OPTIONS', headers: preflightHeaders('https://a.b.example.com') });
    f.handle(sub);
    assert.equal(sub.status, 204);
    for (const [origin, method] of [['https://evil.test', 'PUT'], ['https://example.com.evil.test', 'PUT'], ['https://app.test', 'DELETE']] as const) {
      const ctx = makeContext({ method: 'OPTIONS', headers: preflightHeaders(origin, method) });
      assert.equal(f.handle(ctx), 'preflight');
      assert.equal(ctx.status, 403, `${origin} ${method}`);
      assert.equal(ctx.responseHeaders.get('access-control-allow-origin'), undefined);
    }
  });

  it('adds the origin headers to the final response of a simple request, over what an upstream sent', () => {
    const ctx = makeContext({ headers: { origin: 'https://app.test' } });
    assert.equal(f.handle(ctx), '');
    // What a Proxy filter after CORS leaves: the upstream's headers.
    ctx.status = 200;
    ctx.responseHeaders.add('access-control-allow-origin', '*');
    ctx.responseHeaders.add('vary', 'Accept-Encoding');
    ctx.applyEdgeHeaders();
    const h = ctx.responseHeaders;
    assert.deepEqual(h.getAll('access-control-allow-origin'), ['https://app.test']);
    assert.equal(h.get('access-control-allow-credentials'), 'true');
    assert.equal(h.get('access-control-expose-headers'), 'x-id');
    assert.equal(h.get('vary'), 'Accept-Encoding, Origin');
  });

  it('adds nothing but Vary for an origin not allowed, and uses * when any origin is allowed without credentials', () => {
    const denied = makeContext({ headers: { origin: 'https://evil.test' } });
    f.handle(denied);
    denied.applyEdgeHeaders();
    assert.equal(denied.responseHeaders.get('access-control-allow-origin'), undefined);
    assert.equal(denied.responseHeaders.get('vary'), 'Origin');
    const open = filter({});
    const ctx = makeContext({ headers: { origin: 'https://any.test' } });
    open.handle(ctx);
    ctx.applyEdgeHeaders();
    assert.equal(ctx.responseHeaders.get('access-control-allow-origin'), '*');
    assert.equal(ctx.responseHeaders.get('vary'), undefined);
    const noOrigin = makeContext();
    open.handle(noOrigin);
    assert.equal(noOrigin.edgeHeaders, null);
  });

  it('matches patterns with several * label by label: a hostile Origin costs one look per label', () => {
    const stars = filter({ allowedOrigins: ['https://*.*.*.example.com', 'https://*.api.test:8443'] });
    const allowed = (origin: string): boolean => {
      const ctx = makeContext({ headers: { origin } });
      stars.handle(ctx);
      ctx.applyEdgeHeaders();
      return ctx.responseHeaders.get('access-control-allow-origin') === origin;
    };
    assert.equal(allowed('https://a.b.c.example.com'), true);
    assert.equal(allowed('https://x.a.b.c.example.com'), true, 'a leading * is one or more labels');
    assert.equal(allowed('https://b.c.example.com'), false, 'each inner * is exactly one label');
    assert.equal(allowed('https://a..c.example.com'), false);
    assert.equal(allowed('https://a.b:1.c.example.com'), false);
    assert.equal(allowed('https://x.api.test:8443'), true);
    assert.equal(allowed('https://x.api.test'), false);
    assert.equal(allowed('https://x.api.test:8444'), false);
    // The report's header (`https://` + 'a.' * 1900 + 'x'): refused, and so is a 4 KB one that would otherwise match.
    assert.equal(allowed(`https://${'a.'.repeat(1900)}x`), false);
    const long = `https://${'a.'.repeat(2000)}example.com`;
    assert.ok(long.length > 4000 && long.length > MAX_ORIGIN_LENGTH);
    assert.equal(allowed(long), false);
    const underCap = `https://${'a.'.repeat(1000)}example.com`;
    assert.ok(underCap.length <= MAX_ORIGIN_LENGTH);
    assert.equal(allowed(underCap), true);

    // Linear by construction: each origin label is examined at most once, however many * the pattern has.
    const p = parseOriginPattern('https://*.*.*.*.*.example.com');
    for (const host of [`${'a.'.repeat(1000)}x`, `${'a.'.repeat(1000)}example.com`, `${'a.'.repeat(1000)}example.org`, 'a.'.repeat(1000)]) {
      const visits = { count: 0 };
      matchOrigin(p, `https://${host}`, visits);
      assert.ok(visits.count <= host.split('.').length, `${visits.count} looks for ${host.split('.').length} labels`);
    }
    const visits = { count: 0 };
    assert.equal(matchOrigin(p, `https://${'a.'.repeat(1000)}example.com`, visits), true);
    assert.equal(visits.count, 1002);
  });

  it('refuses allowedOrigins entries that can never equal an Origin header, naming the entry', () => {
    const refused = (origins: unknown[]): string => {
      const issues: { path: (string | number)[]; message: string }[] = [];
      assert.equal(corsSchema.check({ name: 'c', kind: 'CORS', allowedOrigins: origins }, [], issues), undefined, JSON.stringify(origins));
      return issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    assert.match(refused(['https://ok.test', 'app.example.com']), /^allowedOrigins\.1: "app\.example\.com" has no scheme.*expected scheme:\/\/host\[:port\]/);
    assert.match(refused(['https://other.example.com/']), /^allowedOrigins\.0: .*trailing "\/"/);
    assert.match(refused(['https://a*.example.com']), /^allowedOrigins\.0: .*inside a label/);
    assert.match(refused(['https://x.test:99999']), /^allowedOrigins\.0: .*bad port/);
    assert.match(refused(['https://x.test/path']), /^allowedOrigins\.0: /);
    assert.match(refused(['https://']), /^allowedOrigins\.0: .*bad host label/);
    for (const good of [['*'], ['https://app.test', 'http://localhost:3000', 'https://*.example.com', 'http://[::1]:8080', 'HTTPS://App.Test']]) {
      const issues: { path: (string | number)[]; message: string }[] = [];
      assert.notEqual(corsSchema.check({ name: 'c', kind: 'CORS', allowedOrigins: good }, [], issues), undefined, JSON.stringify(issues));
    }
  });
});
