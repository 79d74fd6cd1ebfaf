import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../src/config/load';
import { formatConfigError, validateObjects } from '../src/config/validate';
import { runCli, writeTempConfig } from './helpers/gateway';

const BCRYPT = '$2y$04$abcdefghijklmnopqrstuuJ1z3m6mIi6bfyKNE1g/Vq0Lk5Vpv0pW';
const pipeline = (flow: string, validator: string, limiter = 'key: header, keyName: X-User'): string => `kind: Pipeline
name: p
flow:
${flow}
filters:
  - { name: v, kind: Validator, ${validator} }
  - { name: rl, kind: RateLimiter, rate: 5, ${limiter} }
  - { name: m, kind: Mock, rules: [{ body: ok }] }
`;
const GUARDED = '  - { filter: v }\n  - { filter: rl }\n  - { filter: m }';

function warnings(config: string): string[] {
  const loaded = parseConfigText(config, 'c.yaml');
  assert.deepEqual(loaded.errors, []);
  const r = validateObjects(loaded.objects);
  assert.deepEqual(r.errors, []);
  return r.warnings.map(formatConfigError);
}

describe('validate: a header/cookie RateLimiter that key-less requests pass', () => {
  it('warns at the flow step when no earlier Validator requires the key', () => {
    const expected = 'c.yaml:5: Pipeline/p flow[1].filter: RateLimiter "rl" counts by header X-User, and no Validator before it in the flow requires that header: requests without it are not limited (add a Validator that requires it, or a key: ip/route RateLimiter)';
    // The Validator requires another header.
    assert.deepEqual(warnings(pipeline(GUARDED, 'headers: { X-Other: { regexp: "" } }')), [expected]);
    // The Validator comes after the limiter.
    assert.deepEqual(warnings(pipeline('  - { filter: m }\n  - { filter: rl }\n  - { filter: v }', 'headers: { X-User: { regexp: "" } }')).length, 1);
    // Its refusal jumps on instead of ending the flow.
    assert.deepEqual(warnings(pipeline('  - { filter: v, jumpIf: { invalid: m } }\n  - { filter: rl }\n  - { filter: m }', 'headers: { X-User: { regexp: "" } }')), [expected]);
    // An API key header that may come from the query instead.
    assert.equal(warnings(pipeline(GUARDED, 'apiKey: { header: X-User, query: k, keys: [0123456789abcdef] }')).length, 1);
    // A cookie limiter behind a Bearer (not cookie) JWT.
    assert.match(warnings(pipeline(GUARDED, 'jwt: { algorithms: [HS256], secret: s }', 'key: cookie, keyName: sid'))[0] ?? '', /counts by cookie sid/);
  });

  it('is silent when an earlier Validator requires the header or cookie, or the key is not a header/cookie', () => {
    assert.deepEqual(warnings(pipeline(GUARDED, 'headers: { x-user: { regexp: "" } }')), []);
    assert.deepEqual(warnings(pipeline('  - { filter: v, jumpIf: { invalid: END } }\n  - { filter: rl }\n  - { filter: m }', 'apiKey: { header: x-user, keys: [0123456789abcdef] }')), []);
    assert.deepEqual(warnings(pipeline(GUARDED, `basicAuth: { users: { a: "${BCRYPT}" } }`, 'key: header, keyName: Authorization')), []);
    assert.deepEqual(warnings(pipeline(GUARDED, 'jwt: { algorithms: [HS256], secret: s }', 'key: header, keyName: authorization')), []);
    assert.deepEqual(warnings(pipeline(GUARDED, 'jwt: { algorithms: [HS256], secret: s, cookieName: sid }', 'key: cookie, keyName: sid')), []);
    assert.deepEqual(warnings(pipeline(GUARDED, 'headers: { X-Other: { regexp: "" } }', 'key: ip')), []);
    assert.deepEqual(warnings(pipeline('  - { filter: v }\n  - { filter: m }', 'headers: { X-Other: { regexp: "" } }')), [], 'a limiter outside the flow');
  });

  it('ngate validate prints it as a warning and exits 0', async () => {
    const r = await runCli(['validate', writeTempConfig(pipeline(GUARDED, 'headers: { X-Other: { regexp: "" } }'))]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*:5: Pipeline\/p flow\[1\]\.filter: RateLimiter "rl" counts by header X-User, .*requests without it are not limited/);
  });
});
