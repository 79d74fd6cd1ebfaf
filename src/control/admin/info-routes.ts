import { version } from '../../cli/version';
import { json, text, type AdminServer } from './admin-server';

export interface EngineInfo {
  readonly workers: number;
  generation(): number;
  draining(): boolean;
}

/** /server_info, /ready and /help: what an operator or a load balancer asks first. */
export function registerInfoRoutes(admin: AdminServer, info: EngineInfo): void {
  const startedAt = Date.now();
  admin.route('GET', '/server_info', () =>
    json(200, {
      version,
      state: info.draining() ? 'DRAINING' : 'LIVE',
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      workers: info.workers,
      generation: info.generation(),
      pid: process.pid,
    }),
  );
  admin.route('GET', '/ready', () => (info.draining() ? text(503, 'DRAINING\n') : text(200, 'LIVE\n')));
  const help = (): ReturnType<typeof text> => text(200, `${admin.list().sort().join('\n')}\n`);
  admin.route('GET', '/help', help);
  // Envoy's admin answers its root with the endpoint list; so does ngate's.
  admin.route('GET', '/', help);
}
