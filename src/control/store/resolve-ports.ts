/**
 * Before a swap, every listener port must be concrete and free: a port this
 * gateway already listens on is kept (a port-0 server keeps the port it was
 * given), any other port is probed like at start (uWS binds with SO_REUSEPORT
 * and would otherwise share a port silently).
 */
import type { CompiledConfig, CompiledServer } from '../../config/compiled';
import { probePort } from '../port-probe';

export async function resolvePorts(next: CompiledConfig, running: readonly CompiledServer[]): Promise<CompiledConfig> {
  const servers: CompiledServer[] = [];
  const taken = new Map<string, string>();
  for (const s of next.servers) {
    let port = s.port;
    if (port === 0) {
      const same = running.find((r) => r.name === s.name && r.address === s.address);
      port = same !== undefined ? same.port : await probePort(s.address, 0);
    } else if (!running.some((r) => r.address === s.address && r.port === s.port)) {
      port = await probePort(s.address, s.port);
    }
    const key = `${s.address}:${port}`;
    const other = taken.get(key);
    if (other !== undefined) throw new Error(`HTTPServer/${s.name}: port ${port} on ${s.address} is already used by HTTPServer/${other}`);
    taken.set(key, s.name);
    servers.push({ ...s, port });
  }
  return { ...next, servers };
}
