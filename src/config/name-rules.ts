/**
 * Names that end up in the admin outputs (/stats, /clusters) must keep them
 * one line per value and one value per name: no control characters or
 * whitespace in a name, one pool per service name (Envoy refuses duplicate
 * cluster names), and no HTTPServer whose stats read as another server's route.
 */
import type { Path } from './schema-kit';
import { formatPath } from './schema-kit';
import type { SourcedObject } from './load';
import { proxyPools } from './proxy-pools';
import { routeKeys } from './route-keys';
import type { ConfigError, PipelineSpec, ServerObjectSpec } from './validate';

/** Control characters (C0, DEL, C1), Unicode line/paragraph separators and any whitespace. */
const UNPRINTABLE = /[\p{Cc}\s\u2028\u2029]/u;

/** Why a name cannot be used in the line-based admin outputs, or null. */
export function unprintableNameProblem(name: string): string | null {
  const m = UNPRINTABLE.exec(name);
  if (m === null) return null;
  const code = (m[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
  return `name ${JSON.stringify(name)} contains U+${code}: names appear in the line-based /stats and /clusters outputs, so control characters and whitespace are refused`;
}

/** `file:line` of a field of an object, for a message that points at another place than its own line. */
export function where(source: SourcedObject, path: Path): string {
  const line = source.line(path);
  return line === undefined ? source.file ?? 'the request' : `${source.file ?? 'the request'}:${line}`;
}

interface PoolSite {
  readonly label: string;
  /** The pool, for the message; `at`, the field that gives its name, for the line. */
  readonly path: Path;
  readonly at: Path;
  readonly source: SourcedObject;
}

/**
 * Every Proxy pool (main, candidate, mirror) names one service, written as
 * `serviceName` or defaulted from `<pipeline>/<filter>`: two pools of one name
 * would share stats, endpoints, health and outlier state. The second is refused,
 * naming the first.
 */
export function checkServiceNames(pipelines: [PipelineSpec, SourcedObject, string][], errors: ConfigError[]): void {
  const seen = new Map<string, PoolSite>();
  for (const [pipeline, source, label] of pipelines) {
    pipeline.filters.forEach((f, i) => {
      if (f.kind !== 'Proxy') return;
      for (const p of proxyPools(f, `${pipeline.name}/${f.name as string}`)) {
        const written = (p.pool as { serviceName?: unknown }).serviceName !== undefined;
        const path: Path = written ? ['filters', i, ...p.path, 'serviceName'] : ['filters', i, 'name'];
        const first = seen.get(p.serviceName);
        if (first === undefined) {
          seen.set(p.serviceName, { label, path: ['filters', i, ...p.path], at: path, source });
          continue;
        }
        const how = written ? '' : ' (the default service name of this pool)';
        errors.push({
          file: source.file,
          line: source.line(path),
          object: label,
          path: formatPath(path),
          message: `service name "${p.serviceName}"${how} is already used by ${first.label} ${formatPath(first.path)} (${where(first.source, first.at)}); two pools of one name would mix their stats, endpoints and health: give each pool its own serviceName`,
        });
      }
    });
  }
}

/**
 * An HTTPServer named `<server>.route.<route>` would print its listener stats
 * under the names of that route's stats (`http.<server>.route.<route>.*`).
 * Names may contain dots (as Easegress names do), so only the actual clash is refused.
 */
export function checkStatNames(servers: [ServerObjectSpec, SourcedObject][], errors: ConfigError[]): void {
  const routes = new Map<string, [ServerObjectSpec, SourcedObject, number]>();
  for (const [server, source] of servers) {
    routeKeys(server.rules).forEach((key, i) => routes.set(`${server.name}.route.${key}`, [server, source, i]));
  }
  for (const [server, source] of servers) {
    const clash = routes.get(server.name);
    if (clash === undefined) continue;
    const [other, otherSource, index] = clash;
    const key = routeKeys(other.rules)[index] as string;
    errors.push({
      file: source.file,
      line: source.line(['name']),
      object: `HTTPServer/${server.name}`,
      path: 'name',
      message: `its stats (http.${server.name}.*) would have the same names as those of route "${key}" of HTTPServer/${other.name} (${where(otherSource, routePath(other, index))}): rename the server or the route`,
    });
  }
}

/** The spec path of the index-th path rule of a server, counted over all its host rules. */
function routePath(server: ServerObjectSpec, index: number): Path {
  let n = 0;
  for (let r = 0; r < server.rules.length; r++) {
    const paths = (server.rules[r] as ServerObjectSpec['rules'][number]).paths;
    if (index < n + paths.length) return ['rules', r, 'paths', index - n];
    n += paths.length;
  }
  return ['name'];
}
