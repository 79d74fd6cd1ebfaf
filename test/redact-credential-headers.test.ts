import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { placeholderPaths, redactSecrets, REDACTED } from '../src/control/admin/redact';
import type { StoredObject } from '../src/control/store/object-store';
import { restorePlaceholders } from '../src/control/store/placeholders';

const PIPELINE = {
  kind: 'Pipeline',
  name: 'p',
  filters: [
    {
      name: 'stamp',
      kind: 'RequestAdaptor',
      header: { set: { Authorization: 'Bearer upstream-token-1', 'X-Api-Key': 'hdr-key-1', 'X-Trace': 'on' }, add: { cookie: 'sid=abc' } },
    },
    {
      name: 'proxy',
      kind: 'Proxy',
      mainPool: {
        servers: [{ url: 'http://127.0.0.1:1' }],
        healthCheck: { path: '/h', headers: { 'proxy-authorization': 'Basic cHJvYmU6cHc=', Host: 'svc' } },
      },
    },
  ],
};

describe('admin redaction: credentials the gateway sends as header values', () => {
  it('redacts Authorization, cookies and api key / token / secret / password headers; other headers stay', () => {
    const shown = JSON.stringify(redactSecrets(PIPELINE));
    for (const secret of ['upstream-token-1', 'hdr-key-1', 'sid=abc', 'cHJvYmU6cHc=']) assert.ok(!shown.includes(secret), `shows ${secret}`);
    const r = redactSecrets(PIPELINE) as typeof PIPELINE;
    assert.equal(r.filters[0]?.header?.set['X-Trace'], 'on');
    assert.equal(r.filters[1]?.mainPool?.healthCheck.headers.Host, 'svc');
    assert.equal(r.filters[0]?.header?.set.Authorization, REDACTED);
  });

  it('redacts an unquoted numeric key and the X-Auth, access key, signature and Set-Cookie names', () => {
    const adaptor = { name: 'a', kind: 'RequestAdaptor', header: { set: { 'X-Api-Key': 83749273641, 'X-Auth-Token-Id': 'xa-1', 'X-Access-Key': 'ak-1', 'X-Signature': 'sig-1', 'Set-Cookie': 'sc-1', 'X-Count': 3 } } };
    const r = redactSecrets(adaptor);
    assert.deepEqual(r.header.set, { 'X-Api-Key': REDACTED, 'X-Auth-Token-Id': REDACTED, 'X-Access-Key': REDACTED, 'X-Signature': REDACTED, 'Set-Cookie': REDACTED, 'X-Count': 3 });
    const back = restorePlaceholders({ value: r, file: 'a.yaml', line: () => undefined }, { raw: adaptor } as unknown as StoredObject);
    assert.ok('object' in back, JSON.stringify(back));
    assert.deepEqual(back.object.value, adaptor);
  });

  it('keeps a header rule map (a Validator`s) and field names such as keyName or cookieName as they are', () => {
    const validator = { name: 'v', kind: 'Validator', headers: { Authorization: { regexp: '^Bearer ' } } };
    assert.deepEqual(redactSecrets(validator), validator);
    const limiter = { name: 'rl', kind: 'RateLimiter', key: 'header', keyName: 'X-Api-Key', cookieName: 'token' };
    assert.deepEqual(redactSecrets(limiter), limiter);
  });

  it('what get printed goes back unchanged with the running values restored', () => {
    const printed = redactSecrets(PIPELINE);
    assert.equal(placeholderPaths(printed).length, 4);
    const stored = { raw: PIPELINE } as unknown as StoredObject;
    const back = restorePlaceholders({ value: printed, file: 'p.yaml', line: () => undefined }, stored);
    assert.ok('object' in back, JSON.stringify(back));
    assert.deepEqual(back.object.value, PIPELINE);
    const fresh = restorePlaceholders({ value: printed, file: 'p.yaml', line: () => undefined }, undefined);
    assert.ok('errors' in fresh && fresh.errors.length === 4);
  });
});
