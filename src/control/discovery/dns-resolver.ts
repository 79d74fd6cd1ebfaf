import { promises as dns } from 'node:dns';
import type { DnsFamily } from '../../config/pool-schema';

export interface DnsAnswer {
  readonly addresses: string[];
  /** The shortest TTL among the records (seconds); 0 when the answer had none. */
  readonly ttlSeconds: number;
}

type Records = { address: string; ttl: number }[];

/**
 * A (`v4`), AAAA (`v6`) or both (`all`) lookups straight to DNS servers (not
 * getaddrinfo): TTLs come with the answer, and the servers can be chosen
 * (`--dns-server`). Failures are returned as a message, never thrown.
 */
export class DnsResolver {
  private readonly resolver = new dns.Resolver({ timeout: 1_000, tries: 2 });

  constructor(servers: readonly string[]) {
    if (servers.length > 0) this.resolver.setServers([...servers]);
  }

  async resolve(host: string, family: DnsFamily = 'v4'): Promise<DnsAnswer | string> {
    const lookups: Promise<Records | string>[] = [];
    if (family !== 'v6') lookups.push(this.lookup(() => this.resolver.resolve4(host, { ttl: true })));
    if (family !== 'v4') lookups.push(this.lookup(() => this.resolver.resolve6(host, { ttl: true })));
    const results = await Promise.all(lookups);
    // With both families, a name that has only one of them answers the other with ENODATA: that is no
    // failure. Any other error (timeout, SERVFAIL, NXDOMAIN) is, so a half answer never shrinks the set.
    const records: Records = [];
    for (const r of results) {
      if (typeof r === 'string') {
        if (r !== 'ENODATA' || family !== 'all') return r;
      } else records.push(...r);
    }
    if (records.length === 0) return family === 'v4' ? 'no A records' : family === 'v6' ? 'no AAAA records' : 'no A or AAAA records';
    return { addresses: records.map((r) => r.address), ttlSeconds: Math.min(...records.map((r) => r.ttl)) };
  }

  private async lookup(query: () => Promise<Records>): Promise<Records | string> {
    try {
      return await query();
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
  }
}
