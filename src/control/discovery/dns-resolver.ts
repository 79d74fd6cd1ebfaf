import { promises as dns } from 'node:dns';

export interface DnsAnswer {
  readonly addresses: string[];
  /** The shortest TTL among the records (seconds); 0 when the answer had none. */
  readonly ttlSeconds: number;
}

/**
 * IPv4 lookups straight to DNS servers (not getaddrinfo): TTLs come with the
 * answer, and the servers can be chosen (`--dns-server`). Failures are
 * returned as a message, never thrown.
 */
export class DnsResolver {
  private readonly resolver = new dns.Resolver({ timeout: 1_000, tries: 2 });

  constructor(servers: readonly string[]) {
    if (servers.length > 0) this.resolver.setServers([...servers]);
  }

  async resolve(host: string): Promise<DnsAnswer | string> {
    try {
      const records = await this.resolver.resolve4(host, { ttl: true });
      if (records.length === 0) return 'no A records';
      return { addresses: records.map((r) => r.address), ttlSeconds: Math.min(...records.map((r) => r.ttl)) };
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
  }
}
