import { BlockList, isIP } from 'node:net';
import type { HeaderList } from '../../headers';

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
