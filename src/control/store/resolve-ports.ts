/**
 * Before a swap, every listener port must be concrete and free: a port this
 * gateway already listens on is kept (a port-0 server keeps the port it was
 * given), any other port is probed like at start (uWS binds with SO_REUSEPORT
 * and would otherwise share a port silently). A port that cannot be had is a
 * validation error of its HTTPServer, at the `port` field's line, and so
 * is an engine change on a running server's own port (and, on engine: node,
 * https on/off or a protocols or header-limit change).
 */
import type { CompiledConfig, CompiledServer } from '../../config/compiled';
import type { ConfigError } from '../../config/validate';
import { PortProbeError, probePort } from '../port-probe';

export type PortsOutcome = { readonly ok: true; readonly config: CompiledConfig } | { readonly ok: false; readonly errors: ConfigError[] };

/** Where an HTTPServer's `port` field was written (file and line), for its error. */
export type PortSite = (server: string) => { readonly file: string | undefined; readonly line: number | undefined };

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** Two addresses clash on one port when they are the same or either is a wildcard. */
function overlaps(a: string, b: string): boolean {
  return a === b || WILDCARDS.has(a) || WILDCARDS.has(b);
}

/** The reason a port probe failed, naming our own running server when it is the holder. */
function reasonOf(err: unknown, s: CompiledServer, running: readonly CompiledServer[]): string {
  if (!(err instanceof PortProbeError)) return (err as Error).message;
  const holder = err.inUse ? running.find((r) => r.port === err.port && overlaps(r.address, s.address)) : undefined;
  if (holder === undefined) return err.message;
  const move = holder.name === s.name ? '; change the port to move it' : '';
  return `port ${err.port} on ${s.address} is held by HTTPServer/${holder.name} of this gateway (on ${holder.address})${move}`;
}

/**
 * A change that needs a second listener on the running server's port, which
 * cannot be had: a changed listener is bound before the old one closes, and
 * node:http cannot share a port (no SO_REUSEPORT on Node 20), neither with
 * uWS nor with itself. uWS listeners share theirs (a certificate change works).
 */
function sharedPortChange(before: CompiledServer, next: CompiledServer): string | null {
  if (before.engine !== next.engine) return `the engine cannot change (${before.engine} to ${next.engine})`;
  if (next.engine !== 'node') return null;
  if ((before.tls === null) !== (next.tls === null)) return `https cannot be turned ${next.tls === null ? 'off' : 'on'} on engine: node`;
  // node fixes these when it creates a server (which servers exist, parser and HTTP/2 session limits);
  // timeouts, keepAlive, maxConnections and certificates change in the running one.
  const fixed: string[] = [];
  // A TLS port offers h2 and http/1.1 by ALPN whatever protocols says.
  if (next.tls === null && [...before.protocols].sort().join() !== [...next.protocols].sort().join()) fixed.push('protocols');
  if (before.maxHeaderBytes !== next.maxHeaderBytes) fixed.push('maxHeaderBytes');
  if (before.maxHeaderCount !== next.maxHeaderCount) fixed.push('maxHeaderCount');
  if (fixed.length > 0) return `${fixed.join(', ')} cannot change on engine: node (fixed when its server is created)`;
  return null;
}


export async function resolvePorts(next: CompiledConfig, running: readonly CompiledServer[], site: PortSite): Promise<PortsOutcome> {
  const servers: CompiledServer[] = [];
  const errors: ConfigError[] = [];
  const taken = new Map<string, string>();
  const refuse = (s: CompiledServer, message: string): void => {
    errors.push({ ...site(s.name), object: `HTTPServer/${s.name}`, path: 'port', message });
  };
  for (const s of next.servers) {
    let port = s.port;
    const before = running.find((r) => r.name === s.name && r.address === s.address && (s.port === 0 || r.port === s.port));
    const rebind = before === undefined ? null : sharedPortChange(before, s);
    if (rebind !== null) {
      refuse(s, `${rebind} while HTTPServer/${s.name} listens on port ${before?.port}: change the port in the same update, or delete the server and create it again`);
      continue;
    }
    try {
      if (port === 0) {
        const same = running.find((r) => r.name === s.name && r.address === s.address);
        port = same !== undefined ? same.port : await probePort(s.address, 0);
      } else if (!running.some((r) => r.address === s.address && r.port === s.port)) {
        port = await probePort(s.address, s.port);
      }
    } catch (err) {
      refuse(s, reasonOf(err, s, running));
      continue;
    }
    const key = `${s.address}:${port}`;
    const other = taken.get(key);
    if (other !== undefined) {
      refuse(s, `port ${port} on ${s.address} is already used by HTTPServer/${other}`);
      continue;
    }
    taken.set(key, s.name);
    servers.push({ ...s, port });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config: { ...next, servers } };
}
