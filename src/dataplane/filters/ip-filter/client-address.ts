import { BlockList, isIP } from 'node:net';
import { list, optional, type Schema } from '../../../config/schema-kit';
import type { HeaderList } from '../../headers';

/** An address or CIDR ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7"). */
export const cidr: Schema<string> = {
  describe: 'an IPv4 or IPv6 address or CIDR',
  check(value, path, issues) {
    if (typeof value === 'string') {
      const [addr = '', bits, extra] = value.split('/');
      const family = isIP(addr);
      const max = family === 4 ? 32 : 128;
      const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
      if (family !== 0 && okBits && extra === undefined) return value;
    }
    issues.push({ path, message: `expected ${this.describe}, got ${JSON.stringify(value)}` });
    return undefined;
  },
};

/** The `trustedProxies` field of every filter that finds the client address (IPFilter, RateLimiter key: ip). */
export const trustedProxiesField = optional(list(cidr));

/** Checked CIDRs as a BlockList, built once per filter (never per request). */
export function toBlockList(cidrs: readonly string[]): BlockList {
  const blocks = new BlockList();
  for (const c of cidrs) {
    const [addr = '', bits] = c.split('/');
    const type = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) blocks.addAddress(addr, type);
    else blocks.addSubnet(addr, Number(bits), type);
  }
  return blocks;
}

/** An IPv4 or IPv6 address checked against a list; IPv4-mapped IPv6 counts as IPv4 (BlockList does that). */
export function inList(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The client address as nginx's real_ip_recursive finds it: when the socket
 * peer is a trusted proxy, walk X-Forwarded-For (every copy, in order) from
 * the right, skipping trusted proxies; the first untrusted entry is the
 * client. When every entry is trusted, the leftmost one is. An entry that is
 * not an IP address ends the walk and is returned as is (it then matches no
 * CIDR). A peer that is not trusted is the client, whatever the header says.
 */
export function clientAddress(peer: string, headers: HeaderList, trusted: BlockList): string {
  if (!inList(trusted, peer)) return peer;
  const values = headers.getAll('x-forwarded-for');
  if (values.length === 0) return peer;
  const hops = values.join(',').split(',');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = (hops[i] as string).trim();
    if (hop === '') continue;
    client = hop;
    if (!inList(trusted, hop)) break;
  }
  return client;
}
