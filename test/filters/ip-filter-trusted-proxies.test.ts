import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { describe, it } from 'node:test';
import { IPFilterFilter } from '../../src/dataplane/filters/ip-filter/filter';
import { clientAddress } from '../../src/dataplane/filters/ip-filter/client-address';
import { ipFilterSchema } from '../../src/dataplane/filters/ip-filter/schema';
import { HeaderList } from '../../src/dataplane/headers';
import { checked, makeContext } from '../helpers/context';

function filter(spec: Record<string, unknown>): IPFilterFilter {
  return new IPFilterFilter('ip', checked(ipFilterSchema, { name: 'ip', kind: 'IPFilter', ...spec }));
}

function trusted(...cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const [a = '', bits = '32'] = c.split('/');
    list.addSubnet(a, Number(bits), 'ipv4');
  }
  return list;
}

function xff(...values: string[]): HeaderList {
  const h = new HeaderList();
  for (const v of values) h.add('x-forwarded-for', v);
  return h;
}

describe('IPFilter trustedProxies: client address like real_ip_recursive', () => {
  const proxies = trusted('10.0.0.0/8', '127.0.0.1/32');

  it('takes the rightmost untrusted X-Forwarded-For entry when the peer is trusted', () => {
    assert.equal(clientAddress('10.0.0.1', xff('198.51.100.9, 203.0.113.5, 10.1.1.1'), proxies), '203.0.113.5');
    assert.equal(clientAddress('10.0.0.1', xff('203.0.113.5'), proxies), '203.0.113.5');
  });

  it('reads every X-Forwarded-For field in order, as one list', () => {
    assert.equal(clientAddress('127.0.0.1', xff('198.51.100.9', '203.0.113.5 , 10.2.2.2'), proxies), '203.0.113.5');
  });

  it('ignores the header when the peer is not trusted (a client cannot spoof it)', () => {
    assert.equal(clientAddress('192.0.2.1', xff('10.0.0.5'), proxies), '192.0.2.1');
  });

  it('keeps the peer without the header, and the leftmost entry when every entry is trusted', () => {
    assert.equal(clientAddress('10.0.0.1', new HeaderList(), proxies), '10.0.0.1');
    assert.equal(clientAddress('10.0.0.1', xff('10.9.9.9, 10.8.8.8'), proxies), '10.9.9.9');
  });

  it('stops at an entry that is not an address (it then matches no CIDR)', () => {
    assert.equal(clientAddress('10.0.0.1', xff('203.0.113.5, unknown, 10.1.1.1'), proxies), 'unknown');
  });

  it('treats an IPv4-mapped IPv6 peer as its IPv4 address', () => {
    assert.equal(clientAddress('::ffff:127.0.0.1', xff('203.0.113.5'), proxies), '203.0.113.5');
  });

  it('blocks and allows on the real client address through a trusted proxy', () => {
    const f = filter({ block: ['203.0.113.0/24'], trustedProxies: ['127.0.0.1', '10.0.0.0/8'] });
    const viaProxy = makeContext({ remote: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(f.handle(viaProxy), 'blocked');
    assert.equal(viaProxy.status, 403);
    assert.equal(f.handle(makeContext({ remote: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.1' } })), '');
    // The same header from an untrusted peer is not believed: the peer itself is checked.
    assert.equal(f.handle(makeContext({ remote: '192.0.2.1', headers: { 'x-forwarded-for': '203.0.113.7' } })), '');
    const allowOnly = filter({ allow: ['198.51.100.0/24'], trustedProxies: ['127.0.0.1'] });
    assert.equal(allowOnly.handle(makeContext({ remote: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.1, garbage' } })), 'blocked');
    assert.equal(allowOnly.handle(makeContext({ remote: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.1' } })), '');
  });

  it('refuses a malformed trusted proxy CIDR', () => {
    assert.throws(() => filter({ trustedProxies: ['10.0.0.0/40'] }), /an IPv4 or IPv6 address or CIDR/);
  });
});
