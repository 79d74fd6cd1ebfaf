import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorsFilter } from '../../src/dataplane/filters/cors/filter';
import { corsSchema } from '../../src/dataplane/filters/cors/schema';
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
    assert.equal(h.get('vary'), 'Origin');
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
});
