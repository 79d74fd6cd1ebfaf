/**
 * Validation of a whole config: every object against its kind's schema, then
 * the cross-object rules. Returns every error at once, each with its object,
 * field path and file:line, so a bad file can be fixed in one pass.
 */
import { FILTER_RESULTS, FILTER_SCHEMAS, FILTER_WARNINGS } from '../dataplane/filters/schemas';
import { statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { httpServerSchema, type HTTPServerSpec, type StaticSpec } from './http-server-schema';
import type { SourcedObject } from './load';
import { forwardStep } from './flow';
import { pipelineSchemaBase, type FlowStepSpec } from './pipeline-schema';
import { formatPath, type Issue, type Path } from './schema-kit';
import { loadServerTls, loadUpstreamTls, type ServerTls } from './tls-material';
import type { UpstreamTlsSpec } from './pool-schema';
import { proxyPools } from './proxy-pools';
import { checkServiceNames, checkStatNames, unprintableNameProblem, where } from './name-rules';
import { keylessRateLimitWarnings } from './rate-limit-key-warning';

/** Caps of the uWebSockets.js build, measured (docs/limits.md). */
const UWS_MAX_HEADERS = 48;
const UWS_SPLIT_HEADER_BYTES = 4096;

export interface ConfigError {
  readonly file: string | undefined;
  readonly line: number | undefined;
  /** "HTTPServer/server-demo", "object #2" when it has no usable kind/name, '' for an error of the file itself. */
  readonly object: string;
  readonly path: string;
  readonly message: string;
}

export interface PipelineSpec {
  readonly kind: 'Pipeline';
  readonly name: string;
  readonly flow: FlowStepSpec[] | undefined;
  readonly filters: Record<string, unknown>[];
}
/** A validated HTTPServer; `tls` holds the loaded certificates when https is on. */
export type ServerObjectSpec = HTTPServerSpec & { kind: 'HTTPServer'; tls?: ServerTls };
export type ObjectSpec = ServerObjectSpec | PipelineSpec;

export interface ValidationResult {
  readonly objects: ObjectSpec[];
  readonly errors: ConfigError[];
  readonly warnings: ConfigError[];
}

/** Kind names as users write them → ngate's kind. */
export const KIND_ALIASES: Record<string, 'HTTPServer' | 'Pipeline'> = {
  HTTPServer: 'HTTPServer',
  Pipeline: 'Pipeline',
  HTTPPipeline: 'Pipeline',
};

export function formatConfigError(e: ConfigError): string {
  const where = e.file === undefined ? '' : e.line === undefined ? `${e.file}: ` : `${e.file}:${e.line}: `;
  // Errors of a whole file (unreadable, YAML syntax, FGW conversion) name no object.
  const what = e.object === '' ? e.path : e.path === '' ? e.object : `${e.object} ${e.path}`;
  return `${where}${what === '' ? '' : `${what}: `}${e.message}`;
}

class Collector {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigError[] = [];
  constructor(private readonly source: SourcedObject | undefined, private readonly label: string) {}

  get file(): string | undefined {
    return this.source?.file;
  }

  add(path: Path, message: string, into: ConfigError[] = this.errors): void {
    into.push({ file: this.source?.file, line: this.source?.line(path), object: this.label, path: formatPath(path), message });
  }
  addIssues(issues: Issue[]): void {
    for (const i of issues) this.add(i.path, i.message);
  }
}

function validatePipeline(raw: Record<string, unknown>, c: Collector): PipelineSpec | undefined {
  const issues: Issue[] = [];
  const base = pipelineSchemaBase.check(raw, [], issues);
  c.addIssues(issues);
  if (base === undefined) return undefined;
  const names = new Map<string, number>();
  const filters: Record<string, unknown>[] = [];
  let ok = true;
  base.filters.forEach((f, i) => {
    const path: Path = ['filters', i];
    if (f === null || typeof f !== 'object' || Array.isArray(f)) {
      c.add(path, 'expected a filter map with name and kind');
      ok = false;
      return;
    }
    const kind = f.kind;
    const schema = typeof kind === 'string' ? FILTER_SCHEMAS[kind] : undefined;
    if (schema === undefined) {
      c.add([...path, 'kind'], `unknown filter kind ${JSON.stringify(kind)} (known: ${Object.keys(FILTER_SCHEMAS).join(', ')})`);
      ok = false;
      return;
    }
    const fIssues: Issue[] = [];
    const checked = schema.check(f, path, fIssues);
    c.addIssues(fIssues);
    if (checked === undefined) {
      ok = false;
      return;
    }
    for (const w of FILTER_WARNINGS[kind as string]?.(checked) ?? []) c.add([...path, ...w.path], w.message, c.warnings);
    if (!resolvePoolTls(checked, path, c)) ok = false;
    const name = checked.name as string;
    const unprintable = unprintableNameProblem(name);
    if (unprintable !== null) {
      c.add([...path, 'name'], unprintable);
      ok = false;
    }
    if (names.has(name)) {
      c.add([...path, 'name'], `filter name "${name}" is used twice (also filters[${names.get(name)}])`);
      ok = false;
    }
    names.set(name, i);
    filters.push(checked);
  });
  const kinds = new Map<unknown, unknown>(base.filters.map((f) => [(f as { name?: unknown } | null)?.name, (f as { kind?: unknown } | null)?.kind]));
  const flow = base.flow ?? [];
  flow.forEach((step, i) => {
    if (!kinds.has(step.filter)) {
      c.add(['flow', i, 'filter'], `no filter named "${step.filter}" in filters`);
      ok = false;
    }
    for (const [result, target] of Object.entries(step.jumpIf ?? {})) {
      const problem = jumpResultProblem(result, step.filter, kinds.get(step.filter));
      if (problem !== null) {
        c.add(['flow', i, 'jumpIf', result], problem);
        ok = false;
      }
      if (target === 'END') continue;
      if (!flow.some((s) => s.filter === target)) {
        c.add(['flow', i, 'jumpIf', result], `jump target "${target}" is neither END nor a filter of the flow`);
        ok = false;
      } else if (forwardStep(flow, i, target) === undefined) {
        // A jump back (or to itself) could run the same steps again and again for one request.
        c.add(['flow', i, 'jumpIf', result], `jump target "${target}" is not after this step: a jump only goes forward, to a later step or END`);
        ok = false;
      }
    }
  });
  if (!ok) return undefined;
  for (const [i, message] of keylessRateLimitWarnings(flow, filters)) c.add(['flow', i, 'filter'], message, c.warnings);
  return { kind: 'Pipeline', name: base.name, flow: base.flow, filters };
}

/** Why a `jumpIf` key can never fire, or null. An unknown kind was reported with the filter already. */
function jumpResultProblem(result: string, filter: string, kind: unknown): string | null {
  if (result === '') return 'an empty result never jumps: "" means the filter let the request go on to the next step';
  const results = typeof kind === 'string' ? FILTER_RESULTS[kind] : undefined;
  if (results === undefined || results === null || results.includes(result)) return null;
  return `filter "${filter}" (${kind as string}) never yields "${result}"; its result is ${results.map((r) => `"${r}"`).join(' or ')}`;
}

/** A Proxy pool's `tls` files are read now (every pool of the filter); the checked spec carries PEM text from here on. */
function resolvePoolTls(filter: Record<string, unknown>, path: Path, c: Collector): boolean {
  let ok = true;
  for (const p of proxyPools(filter, '')) {
    const pool = p.pool as { tls?: UpstreamTlsSpec };
    if (pool.tls === undefined) continue;
    const loaded = loadUpstreamTls(pool.tls, c.file, [...path, ...p.path, 'tls'], (at, m) => c.add(at, m));
    if (loaded === undefined) ok = false;
    else (pool as { tls?: unknown }).tls = loaded;
  }
  return ok;
}

function validateServer(raw: Record<string, unknown>, c: Collector): ServerObjectSpec | undefined {
  const issues: Issue[] = [];
  const spec = httpServerSchema.check(raw, [], issues);
  c.addIssues(issues);
  // Roots are checked on the object as written, so a missing one is reported with the schema's errors, not after them.
  let ok = checkStaticRoots(raw, c);
  if (spec === undefined) return undefined;
  spec.rules.forEach((rule, r) =>
    rule.paths.forEach((p, i) => {
      const set = [p.path, p.pathPrefix, p.pathRegexp].filter((x) => x !== undefined).length;
      if (set > 1) {
        c.add(['rules', r, 'paths', i], 'give at most one of path, pathPrefix, pathRegexp');
        ok = false;
      }
      if ((p.backend === undefined) === (p.static === undefined)) {
        c.add(['rules', r, 'paths', i], 'give exactly one of backend (a Pipeline name) or static (a directory to serve)');
        ok = false;
      }
      if (p.static !== undefined) p.static.root = staticRootPath(p.static.root, c.file);
    }),
  );
  let tls: ServerTls | undefined;
  if (spec.https) {
    if (spec.engine === 'uws' && spec.clientCA !== undefined && spec.clientAuth === 'require') {
      // Measured: uWS checks a certificate the client sends against ca_file_name but accepts a client that sends none.
      c.add(['clientAuth'], 'the uWebSockets.js engine verifies a client certificate when one is sent but cannot require one; set clientAuth: optional, or engine: node to require one');
      ok = false;
    }
    tls = loadServerTls(spec, c.file, (p, m) => c.add(p, m));
    if (tls === undefined) ok = false;
  } else if (spec.certs !== undefined || spec.keys !== undefined || spec.clientCA !== undefined) {
    c.add(['https'], 'certs, keys and clientCA are used only with https: true', c.warnings);
  }
  if (spec.engine === 'uws') {
    if (spec.protocols?.includes('h2c') === true) {
      c.add(['protocols'], 'h2c needs engine: node (the uWebSockets.js build speaks HTTP/1.1 only)');
      ok = false;
    }
    // uWS has fixed values for these: say so instead of silently ignoring them.
    const fixed: [string, string][] = [
      ['keepAliveTimeout', 'closes idle connections after its fixed ~10s'],
      ['headersTimeout', 'cuts slow headers at its fixed ~10s idle timeout'],
      ['requestTimeout', 'has no whole-request timeout'],
    ];
    for (const [key, what] of fixed) {
      if (raw[key] !== undefined) c.add([key], `the uWebSockets.js engine ${what}; this value applies only with engine: node`, c.warnings);
    }
    if (raw.maxHeaderCount !== undefined && spec.maxHeaderCount > UWS_MAX_HEADERS) {
      c.add(['maxHeaderCount'], `the uWebSockets.js engine itself holds requests with more than ${UWS_MAX_HEADERS} header fields (no answer, closed after ~10s)`, c.warnings);
    }
    if (raw.maxHeaderBytes !== undefined && spec.maxHeaderBytes > UWS_SPLIT_HEADER_BYTES) {
      c.add(['maxHeaderBytes'], `the uWebSockets.js engine holds requests whose header block over ~${UWS_SPLIT_HEADER_BYTES / 1024} KB arrives in several TCP reads; ngate's limit applies only below that`, c.warnings);
    }
    if (spec.maxConnections > 0) {
      c.add(['maxConnections'], 'the uWebSockets.js engine has no accept hook: ngate counts connections with a request in progress (503 and close beyond), not idle keep-alive connections; engine: node limits open connections at accept', c.warnings);
    }
  } else {
    if (raw.pipelining !== undefined) c.add(['pipelining'], 'the node engine always serves pipelined requests (in order); this value applies only with engine: uws', c.warnings);
    if (spec.https && spec.protocols !== undefined) c.add(['protocols'], 'a TLS port offers h2 and http/1.1 by ALPN; protocols applies only to cleartext ports', c.warnings);
  }
  return ok ? { ...spec, kind: 'HTTPServer', ...(tls === undefined ? {} : { tls }) } : undefined;
}

/** A static root made absolute: relative to the config file, or to the working directory without one. */
function staticRootPath(root: string, file: string | undefined): string {
  return isAbsolute(root) || file === undefined ? resolve(root) : resolve(dirname(file), root);
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every `static.root` written as a string must name a directory; other shapes are the schema's to report. */
function checkStaticRoots(raw: Record<string, unknown>, c: Collector): boolean {
  let ok = true;
  if (!Array.isArray(raw.rules)) return ok;
  raw.rules.forEach((rule: unknown, r) => {
    if (!isMap(rule) || !Array.isArray(rule.paths)) return;
    rule.paths.forEach((p: unknown, i) => {
      if (!isMap(p) || !isMap(p.static) || typeof p.static.root !== 'string') return;
      if (!checkStaticRoot(staticRootPath(p.static.root, c.file), c, ['rules', r, 'paths', i, 'static', 'root'])) ok = false;
    });
  });
  return ok;
}

function checkStaticRoot(root: string, c: Collector, path: Path): boolean {
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    c.add(path, `static root ${root} does not exist`);
    return false;
  }
  if (!isDir) {
    c.add(path, `static root ${root} is not a directory`);
    return false;
  }
  return true;
}

export function validateObjects(sources: SourcedObject[]): ValidationResult {
  const objects: ObjectSpec[] = [];
  const errors: ConfigError[] = [];
  const warnings: ConfigError[] = [];
  const seen = new Map<string, { label: string; source: SourcedObject }>();
  const servers: [ServerObjectSpec, SourcedObject][] = [];
  const pipelines: [PipelineSpec, SourcedObject, string][] = [];
  sources.forEach((source, index) => {
    const raw = source.value;
    const label0 = source.label ?? `object #${index + 1}`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      errors.push({ file: source.file, line: source.line([]), object: label0, path: '', message: 'expected a map with kind and name' });
      return;
    }
    const obj = raw as Record<string, unknown>;
    const rawKind = obj.kind;
    const kind = typeof rawKind === 'string' ? KIND_ALIASES[rawKind] : undefined;
    // A name that cannot be printed on one line is shown only inside its error message, quoted.
    const printable = typeof obj.name === 'string' && unprintableNameProblem(obj.name) === null;
    const label = printable && typeof rawKind === 'string' ? `${rawKind}/${obj.name as string}` : label0;
    const c = new Collector(source, label);
    if (kind === undefined) {
      const known = `(known: ${Object.keys(KIND_ALIASES).join(', ')})`;
      c.add(['kind'], rawKind === undefined ? `missing kind ${known}` : `unknown kind ${JSON.stringify(rawKind)} ${known}`);
    } else {
      const spec = kind === 'HTTPServer' ? validateServer(obj, c) : validatePipeline(obj, c);
      if (spec !== undefined) {
        const other = seen.get(spec.name);
        if (other !== undefined) c.add(['name'], `name "${spec.name}" is already used by ${other.label}, first defined at ${where(other.source, ['name'])}`);
        else {
          seen.set(spec.name, { label, source });
          objects.push(spec);
          if (spec.kind === 'HTTPServer') servers.push([spec, source]);
          else pipelines.push([spec, source, label]);
        }
      }
    }
    errors.push(...c.errors);
    warnings.push(...c.warnings);
  });
  checkPorts(objects, sources, errors);
  checkServiceNames(pipelines, errors);
  checkStatNames(servers, errors);
  checkBackends(servers, sources, warnings);
  return { objects, errors, warnings };
}

/**
 * A route whose backend names no Pipeline is valid (the pipeline may be
 * created later through the object API) but answers 503 until then: warned
 * about at its line. Pipelines with errors of their own count as named.
 */
function checkBackends(servers: [ServerObjectSpec, SourcedObject][], sources: SourcedObject[], warnings: ConfigError[]): void {
  const pipelines = new Set<unknown>();
  for (const s of sources) {
    const v = s.value as { kind?: unknown; name?: unknown } | null;
    if (isMap(v) && typeof v.kind === 'string' && KIND_ALIASES[v.kind] === 'Pipeline') pipelines.add(v.name);
  }
  for (const [server, source] of servers) {
    const c = new Collector(source, `HTTPServer/${server.name}`);
    server.rules.forEach((rule, r) => {
      rule.paths.forEach((p, i) => {
        if (p.backend !== undefined && !pipelines.has(p.backend)) {
          c.add(['rules', r, 'paths', i, 'backend'], `no Pipeline named "${p.backend}": this route answers 503 NGATE_ERR_PIPELINE_MISSING until one is created`, c.warnings);
        }
      });
    });
    warnings.push(...c.warnings);
  }
}

function checkPorts(objects: ObjectSpec[], sources: SourcedObject[], errors: ConfigError[]): void {
  const ports = new Map<string, string>();
  for (const o of objects) {
    if (o.kind !== 'HTTPServer' || o.port === 0) continue;
    const key = String(o.port);
    const other = ports.get(key);
    if (other !== undefined) {
      const src = sources.find((s) => (s.value as { name?: unknown }).name === o.name);
      errors.push({ file: src?.file, line: src?.line(['port']), object: `HTTPServer/${o.name}`, path: 'port', message: `port ${o.port} is already used by HTTPServer/${other} (one HTTPServer per port, whatever its address: route by host inside one server)` });
    } else ports.set(key, o.name);
  }
}
