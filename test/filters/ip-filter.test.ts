import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IPFilterFilter } from '../../src/dataplane/filters/ip-filter/filter';
import { ipFilterSchema } from '../../src/dataplane/filters/ip-filter/schema';
import { checked, makeContext } from '../helpers/context';

function filter(spec: Record<string, unknown>): IPFilterFilter {
  return new IPFilterFilter('ip', checked(ipFilterSchema, { name: 'ip', kind: 'IPFilter', ...spec }));
}

describe('IPFilter', () => {
  it('allows only the allow list, IPv4 and IPv6, and blocks with 403 and result blocked', () => {
    const f = filter({ allow: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'] });
    for (const a of ['10.1.2.3', '192.0.2.7', '2001:db8::1', '::ffff:10.9.9.9']) assert.ok(f.permits(a), a);
    for (const a of ['11.0.0.1', '192.0.2.8', '2001:db9::1', '::1']) assert.ok(!f.permits(a), a);
    const ctx = makeContext({ remote: '11.0.0.1' });
    assert.equal(f.handle(ctx), 'blocked');
    assert.equal(ctx.status, 403);
    assert.equal(f.handle(makeContext({ remote: '10.0.0.1' })), '');
  });

  it('lets the block list win over the allow list', () => {
    const f = filter({ allow: ['10.0.0.0/8'], block: ['10.0.0.0/24', 'fe80::/10'] });
    assert.ok(!f.permits('10.0.0.5'));
    assert.ok(f.permits('10.0.1.5'));
    const blockOnly = filter({ block: ['fe80::/10'] });
    assert.ok(!blockOnly.permits('fe80::1'));
    assert.ok(blockOnly.permits('127.0.0.1'));
  });

  it('refuses malformed CIDRs', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'fe80::/129', 'host.example']) assert.throws(() => filter({ allow: [bad] }), /an IPv4 or IPv6 address or CIDR/, bad);
  });
});
