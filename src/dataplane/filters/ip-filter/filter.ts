import { isIP, type BlockList } from 'node:net';
import type { RequestContext } from '../../context';
import type { Filter } from '../../pipeline/filter';
import type { IPFilterSpec } from './schema';
import { clientAddress, toBlockList } from './client-address';

/**
 * IPFilter: checks the client address against block and allow CIDR
 * lists (IPv4, IPv6, and IPv4-mapped IPv6 as IPv4); refused → 403, result
 * `blocked`. The client is the socket peer, or with `trustedProxies` the
 * rightmost untrusted X-Forwarded-For entry when the peer is trusted.
 */
export class IPFilterFilter implements Filter {
  readonly kind = 'IPFilter';
  private readonly allow: BlockList | null;
  private readonly block: BlockList | null;
  private readonly trusted: BlockList | null;

  constructor(
    readonly name: string,
    spec: IPFilterSpec,
  ) {
    this.allow = spec.allow === undefined ? null : toBlockList(spec.allow);
    this.block = spec.block === undefined ? null : toBlockList(spec.block);
    this.trusted = spec.trustedProxies === undefined ? null : toBlockList(spec.trustedProxies);
  }

  handle(ctx: RequestContext): string {
    const address = this.trusted === null ? ctx.remoteAddress : clientAddress(ctx.remoteAddress, ctx.headers, this.trusted);
    if (this.permits(address)) return '';
    ctx.fail('NGATE_ERR_FORBIDDEN', 'client address not allowed');
    return 'blocked';
  }

  permits(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return this.allow === null && this.block === null;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.block !== null && this.block.check(address, type)) return false;
    return this.allow === null || this.allow.check(address, type);
  }
}
