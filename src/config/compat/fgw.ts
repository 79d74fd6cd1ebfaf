/**
 * Flomesh Gateway (FGW) `config.json` → ngate's native objects. FGW keys are
 * converted once at load time, never interpreted on the data path. Every
 * converted object remembers the FGW field it came from, so validation errors
 * still point at a line of the user's file. Anything ngate cannot honour is
 * an error naming the FGW field, never silently dropped.
 */
import { MAX_RETRY_ATTEMPTS, MIN_FAIL_TIMEOUT_MS } from '../pool-schema';
import type { Path } from '../schema-kit';

export interface ConvertedObject {
  readonly value: Record<string, unknown>;
  /** Where in the FGW document this object comes from. */
  readonly origin: Path;
}

export interface ConversionIssue {
  readonly path: Path;
  readonly message: string;
}

export interface Conversion {
  readonly objects: ConvertedObject[];
  readonly issues: ConversionIssue[];
}

/** A document is an FGW config when it has FGW's top-level sections. */
export function isFgwConfig(doc: unknown): doc is Record<string, unknown> {
  return isMap(doc) && ('Listeners' in doc || 'RouteRules' in doc || 'Services' in doc);
}

/** `Chains` is accepted and ignored: it lists Pipy's own scripts, whose job ngate's converted pipeline does. */
const TOP_KEYS = ['Configs', 'Listeners', 'RouteRules', 'Services', 'Chains', 'Plugins'];

export const pipelineNameOf = (service: string): string => `fgw-service-${service}`;
export const serverNameOf = (port: number): string => `fgw-listener-${port}`;

export function convertFgw(doc: Record<string, unknown>): Conversion {
  const c = new Converter();
  for (const key of Object.keys(doc)) if (!TOP_KEYS.includes(key)) c.issue([key], `unknown FGW section "${key}" (known: ${TOP_KEYS.join(', ')})`);
  if ('Plugins' in doc) c.issue(['Plugins'], 'FGW plugins (PipyJS scripts) cannot run in ngate; use ngate filters instead');
  const keepAliveTimeout = c.configs(doc.Configs);
  const services = c.services(doc.Services);
  c.listeners(doc.Listeners, doc.RouteRules, services, keepAliveTimeout);
  return { objects: c.objects, issues: c.issues };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function seconds(v: unknown): string | null {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return null;
  return Number.isInteger(v) ? `${v}s` : `${Math.round(v * 1000)}ms`;
}

class Converter {
  readonly objects: ConvertedObject[] = [];
  readonly issues: ConversionIssue[] = [];

  issue(path: Path, message: string): void {
    this.issues.push({ path, message });
  }

  /** Checks a map's keys against what the converter knows; returns false when `v` is not a map. */
  private keys(v: unknown, path: Path, known: readonly string[], what: string): v is Record<string, unknown> {
    if (!isMap(v)) {
      this.issue(path, `expected ${what} (a map)`);
      return false;
    }
    for (const k of Object.keys(v)) if (!known.includes(k)) this.issue([...path, k], `unsupported FGW field "${k}" in ${what} (ngate converts: ${known.join(', ')})`);
    return true;
  }

  configs(raw: unknown): string | null {
    if (raw === undefined) return null;
    if (!this.keys(raw, ['Configs'], ['SocketTimeout', 'EnableDebug'], 'Configs')) return null;
    if (raw.SocketTimeout === undefined) return null;
    const t = seconds(raw.SocketTimeout);
    if (t === null) this.issue(['Configs', 'SocketTimeout'], 'expected seconds (a number)');
    return t;
  }

  /** One Pipeline with a Proxy per FGW service; returns the names converted. */
  services(raw: unknown): Set<string> {
    const names = new Set<string>();
    if (raw === undefined) return names;
    if (!isMap(raw)) {
      this.issue(['Services'], 'expected a map of service name → service');
      return names;
    }
    for (const [name, svc] of Object.entries(raw)) {
      const path: Path = ['Services', name];
      if (!this.keys(svc, path, ['Endpoints', 'HealthCheck', 'StickyCookieName', 'StickyCookieExpires', 'Algorithm', 'ConnectTimeout', 'ReadTimeout', 'IdleTimeout'], `service "${name}"`)) continue;
      const servers = this.endpoints(svc.Endpoints, [...path, 'Endpoints']);
      const pool: Record<string, unknown> = { serviceName: name, servers };
      pool.loadBalance = { policy: this.algorithm(svc.Algorithm, [...path, 'Algorithm'], servers) };
      // FGW moves on to another endpoint when one refuses the connection. A connect failure sent nothing,
      // so retrying it is safe for every method; answers and resets after sending are never retried.
      if (servers.length > 1) pool.retry = { maxAttempts: Math.min(servers.length, MAX_RETRY_ATTEMPTS), on: ['connect-failure'] };
      if (svc.StickyCookieName !== undefined) {
        pool.stickySession = { mode: 'cookie', cookieName: svc.StickyCookieName, ttl: seconds(svc.StickyCookieExpires ?? 3600) ?? svc.StickyCookieExpires };
      }
      for (const [fgw, native] of [['ConnectTimeout', 'connectTimeout'], ['ReadTimeout', 'timeout'], ['IdleTimeout', 'keepAliveTimeout']] as const) {
        if (svc[fgw] === undefined) continue;
        const t = seconds(svc[fgw]);
        if (t === null) this.issue([...path, fgw], 'expected seconds (a number)');
        else pool[native] = t;
      }
      if (svc.HealthCheck !== undefined) this.healthCheck(svc.HealthCheck, [...path, 'HealthCheck'], pool);
      names.add(name);
      this.objects.push({
        origin: path,
        value: { kind: 'Pipeline', name: pipelineNameOf(name), flow: [{ filter: 'proxy' }], filters: [{ name: 'proxy', kind: 'Proxy', mainPool: pool }] },
      });
    }
    return names;
  }

  private endpoints(raw: unknown, path: Path): { url: string; weight: unknown }[] {
    if (!isMap(raw)) {
      this.issue(path, 'expected a map of "host:port" → { Weight }');
      return [];
    }
    return Object.entries(raw).map(([address, ep]) => {
      if (ep !== undefined && ep !== null && !this.keys(ep, [...path, address], ['Weight'], `endpoint "${address}"`)) return { url: '', weight: 1 };
      const weight = isMap(ep) && ep.Weight !== undefined ? ep.Weight : 100;
      return { url: /^https?:\/\//.test(address) ? address : `http://${address}`, weight };
    });
  }

  /**
   * FGW round robin is weighted. With equal weights that is plain round robin, whose cursor
   * all workers share, so requests alternate strictly; weightedRoundRobin keeps its state
   * per worker and only evens out per worker.
   */
  private algorithm(raw: unknown, path: Path, servers: readonly { weight: unknown }[]): string {
    if (raw === undefined || raw === 'RoundRobinLoadBalancer') return servers.every((s) => s.weight === servers[0]?.weight) ? 'roundRobin' : 'weightedRoundRobin';
    if (raw === 'HashingLoadBalancer') return 'ipHash';
    if (raw === 'LeastWorkLoadBalancer') return 'leastRequest';
    this.issue(path, `unknown FGW Algorithm ${JSON.stringify(raw)} (known: RoundRobinLoadBalancer, HashingLoadBalancer, LeastWorkLoadBalancer)`);
    return 'weightedRoundRobin';
  }

  /**
   * FGW checks every `Interval` seconds and takes an endpoint out after
   * `MaxFails` failures for `FailTimeout` seconds: an active check with
   * `unhealthyThreshold: MaxFails`, plus passive ejection for `FailTimeout`
   * (which the endpoint's next passing active check ends early).
   */
  private healthCheck(raw: unknown, path: Path, pool: Record<string, unknown>): void {
    if (!this.keys(raw, path, ['Interval', 'MaxFails', 'FailTimeout', 'Uri', 'Path', 'Matches'], 'HealthCheck')) return;
    const check: Record<string, unknown> = {};
    const interval = seconds(raw.Interval ?? 5);
    if (interval === null) this.issue([...path, 'Interval'], 'expected seconds (a number)');
    else check.interval = interval;
    if (raw.MaxFails !== undefined) check.unhealthyThreshold = raw.MaxFails;
    const uri = raw.Uri ?? raw.Path;
    if (uri !== undefined) check.path = uri;
    if (raw.Matches !== undefined) this.matches(raw.Matches, [...path, 'Matches'], check);
    pool.healthCheck = check;
    if (raw.FailTimeout !== undefined) {
      const failTimeout = seconds(raw.FailTimeout);
      if (failTimeout === null) this.issue([...path, 'FailTimeout'], 'expected seconds (a number)');
      else if ((raw.FailTimeout as number) * 1000 < MIN_FAIL_TIMEOUT_MS) {
        this.issue([...path, 'FailTimeout'], `must be at least ${MIN_FAIL_TIMEOUT_MS / 1000} (seconds an endpoint stays out after MaxFails failures; 0 would eject for no time at all); omit FailTimeout for no passive ejection`);
      } else pool.outlierDetection = { maxFails: raw.MaxFails ?? 1, failTimeout };
    }
  }

  private matches(raw: unknown, path: Path, check: Record<string, unknown>): void {
    if (!Array.isArray(raw)) return this.issue(path, 'expected a list of { Type, Value }');
    raw.forEach((m: unknown, i) => {
      if (!this.keys(m, [...path, i], ['Type', 'Value'], 'a HealthCheck match')) return;
      if (m.Type === 'status') check.expectStatus = m.Value;
      else if (m.Type === 'body') check.expectBody = m.Value;
      else this.issue([...path, i, 'Type'], `unsupported match Type ${JSON.stringify(m.Type)} (ngate converts: status, body)`);
    });
  }

  listeners(raw: unknown, routeRules: unknown, services: Set<string>, keepAliveTimeout: string | null): void {
    if (!Array.isArray(raw)) return this.issue(['Listeners'], 'expected a list of { Protocol, Port }');
    const rules = isMap(routeRules) ? routeRules : {};
    if (routeRules !== undefined && !isMap(routeRules)) this.issue(['RouteRules'], 'expected a map of port → host → route');
    raw.forEach((l: unknown, i) => {
      const path: Path = ['Listeners', i];
      if (!this.keys(l, path, ['Protocol', 'Port', 'Listen'], 'a listener')) return;
      if (l.Protocol !== 'HTTP') this.issue([...path, 'Protocol'], `only Protocol HTTP is converted, not ${JSON.stringify(l.Protocol)}`);
      const port = l.Port;
      if (typeof port !== 'number') return this.issue([...path, 'Port'], 'expected a port number');
      const server: Record<string, unknown> = { kind: 'HTTPServer', name: serverNameOf(port), port, rules: this.routes(rules[String(port)], ['RouteRules', String(port)], services) };
      if (typeof l.Listen === 'string') server.address = l.Listen;
      if (keepAliveTimeout !== null) server.keepAliveTimeout = keepAliveTimeout;
      this.objects.push({ origin: path, value: server });
    });
    for (const port of Object.keys(rules)) {
      if (!raw.some((l: unknown) => isMap(l) && String(l.Port) === port)) this.issue(['RouteRules', port], `no listener on port ${port}`);
    }
  }

  private routes(raw: unknown, path: Path, services: Set<string>): Record<string, unknown>[] {
    if (raw === undefined) return [];
    if (!isMap(raw)) {
      this.issue(path, 'expected a map of host → { RouteType, Matches }');
      return [];
    }
    const rules: Record<string, unknown>[] = [];
    for (const [host, route] of Object.entries(raw)) {
      const at: Path = [...path, host];
      if (!this.keys(route, at, ['RouteType', 'Matches'], `route "${host}"`)) continue;
      if (route.RouteType !== 'HTTP') this.issue([...at, 'RouteType'], `only RouteType HTTP is converted, not ${JSON.stringify(route.RouteType)}`);
      if (!Array.isArray(route.Matches)) {
        this.issue([...at, 'Matches'], 'expected a list of matches');
        continue;
      }
      // A match the converter refused is left out: its own error is the one to report, not a follow-on one about the half-converted path.
      const paths = route.Matches.map((m: unknown, i) => this.match(m, [...at, 'Matches', i], services)).filter((p) => p !== null);
      if (paths.length === 0 && route.Matches.length > 0) continue;
      const rule: Record<string, unknown> = { paths };
      if (host !== '*') rule.host = host;
      rules.push(rule);
    }
    return rules;
  }

  /** The converted path rule, or null when the match has an error (reported here). */
  private match(raw: unknown, path: Path, services: Set<string>): Record<string, unknown> | null {
    const issues = this.issues.length;
    const out: Record<string, unknown> = {};
    if (!this.keys(raw, path, ['Path', 'BackendService', 'ServerRoot', 'Index', 'TryFiles', 'Methods'], 'a match')) return null;
    if (raw.Path !== undefined) {
      const p = raw.Path;
      if (!this.keys(p, [...path, 'Path'], ['Type', 'Path'], 'a path match')) return null;
      const key = p.Type === 'Prefix' ? 'pathPrefix' : p.Type === 'Exact' ? 'path' : p.Type === 'Regex' ? 'pathRegexp' : null;
      if (key === null) this.issue([...path, 'Path', 'Type'], `unknown path Type ${JSON.stringify(p.Type)} (known: Prefix, Exact, Regex)`);
      else out[key] = p.Path;
    }
    if (raw.Methods !== undefined) out.methods = raw.Methods;
    if (raw.ServerRoot !== undefined) {
      out.static = { root: raw.ServerRoot, ...(raw.Index === undefined ? {} : { index: raw.Index }), ...(raw.TryFiles === undefined ? {} : { tryFiles: raw.TryFiles }) };
    }
    if (raw.BackendService !== undefined) out.backend = this.backend(raw.BackendService, [...path, 'BackendService'], services);
    return this.issues.length === issues ? out : null;
  }

  /** One backend service per match: ngate has no weighted split across services in a route. */
  private backend(raw: unknown, path: Path, services: Set<string>): string {
    if (!isMap(raw)) {
      this.issue(path, 'expected a map of service name → { Weight }');
      return '';
    }
    const weighted = Object.entries(raw).filter(([, v]) => !(isMap(v) && v.Weight === 0));
    if (weighted.length !== 1) {
      this.issue(path, `ngate routes a match to exactly one service; this one names ${weighted.length} with non-zero weight`);
      return '';
    }
    const [name] = weighted[0] as [string, unknown];
    if (!services.has(name)) this.issue([...path, name], `no service named "${name}" in Services`);
    return pipelineNameOf(name);
  }
}
