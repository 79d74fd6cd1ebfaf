/**
 * Every change to the running objects goes through here, one at a time:
 * build the whole resulting set, validate it, compile it, resolve ports,
 * assign shared-memory slots, swap it into every worker, and only then keep
 * it in the store and persist it. Any refusal leaves everything as it was.
 */
import { compileConfig } from '../../config/compile';
import type { CompiledConfig, CompiledServer } from '../../config/compiled';
import { parseConfigText, type SourcedObject } from '../../config/load';
import { validateObjects, type ConfigError } from '../../config/validate';
import type { ListenerInfo } from '../../shared/messages';
import type { SwapResult } from '../broadcast';
import type { SlotAllocator } from '../slot-allocator';
import type { Discovery } from '../discovery/dns-discovery';
import { pairWithRaw, readSources, type ObjectStore, type StoredObject } from './object-store';
import { resolvePorts } from './resolve-ports';

export type ChangeOutcome =
  | { readonly ok: true; readonly generation: number; readonly listeners: ListenerInfo[] }
  | { readonly ok: false; readonly status: number; readonly error: string; readonly errors: ConfigError[] };

export interface SwapTarget {
  swap(compiled: CompiledConfig): Promise<SwapResult>;
  readonly committedGeneration: number;
}

function refuse(status: number, error: string, errors: ConfigError[] = []): ChangeOutcome {
  return { ok: false, status, error, errors };
}

/** A running object applied again, still read relative to the file it came from. */
function running(o: StoredObject): SourcedObject {
  return { value: o.raw, file: o.file ?? 'running objects', line: () => undefined };
}

function nameOf(o: SourcedObject): string | undefined {
  const v = o.value as { name?: unknown } | null;
  return v !== null && typeof v === 'object' && typeof v.name === 'string' ? v.name : undefined;
}

export class ObjectService {
  private queue: Promise<unknown> = Promise.resolve();
  /** The committed config with concrete ports. */
  private current: CompiledConfig = { generation: 0, servers: [], pipelines: [] };
  listeners: ListenerInfo[] = [];

  constructor(
    private readonly store: ObjectStore,
    private readonly target: SwapTarget,
    private readonly slots: SlotAllocator,
    /** Told about every committed config (with slots), e.g. to name stats and restart health checks. */
    private readonly onCommitted: (compiled: CompiledConfig) => void = () => undefined,
    /** Turns discovered (DNS) servers into their addresses before slots are assigned. */
    private readonly discovery: Discovery | null = null,
    /** Told about a config with slots just before its swap (e.g. to start slow start of added endpoints); returns the undo for a refused swap. */
    private readonly beforeSwap: (assigned: CompiledConfig) => () => void = () => () => undefined,
  ) {}

  get servers(): readonly CompiledServer[] {
    return this.current.servers;
  }

  /** Parses one object from a request body (JSON or YAML). */
  parseOne(body: string): { object: SourcedObject } | { refusal: ChangeOutcome } {
    const parsed = parseConfigText(body, 'request body');
    if (parsed.errors.length > 0) {
      const errors = parsed.errors.map((e) => ({ file: e.file, line: e.line, object: 'request body', path: '', message: e.message }));
      return { refusal: refuse(400, 'the request body is not valid YAML or JSON', errors) };
    }
    if (parsed.objects.length !== 1) return { refusal: refuse(400, `expected exactly one object in the request body, got ${parsed.objects.length}`) };
    const object = parsed.objects[0] as SourcedObject;
    if (nameOf(object) === undefined) return { refusal: refuse(400, 'the object has no name', [{ file: 'request body', line: object.line([]), object: 'request body', path: 'name', message: 'expected a name' }]) };
    return { object };
  }

  create(object: SourcedObject): Promise<ChangeOutcome> {
    return this.serial(() => {
      const name = nameOf(object) as string;
      if (this.store.get(name) !== undefined) return Promise.resolve(refuse(409, `object ${name} already exists; use update`));
      return this.apply([...this.runningSources(), object]);
    });
  }

  update(name: string, object: SourcedObject): Promise<ChangeOutcome> {
    return this.serial(() => {
      if (nameOf(object) !== name) return Promise.resolve(refuse(400, `the name in the body (${nameOf(object) ?? 'none'}) does not match ${name} in the path`));
      if (this.store.get(name) === undefined) return Promise.resolve(refuse(404, `object ${name} not found`));
      return this.apply(this.runningSources().map((s) => (nameOf(s) === name ? object : s)));
    });
  }

  delete(name: string): Promise<ChangeOutcome> {
    return this.serial(() => {
      if (this.store.get(name) === undefined) return Promise.resolve(refuse(404, `object ${name} not found`));
      return this.apply(this.runningSources().filter((s) => nameOf(s) !== name));
    });
  }

  /**
   * Reload: the config file objects are applied over the running set (an
   * object of the same name is replaced, a new one added); objects created
   * through the API that the files do not mention stay.
   */
  reload(files: string[]): Promise<ChangeOutcome> {
    return this.serial(() => {
      const { sources: fromFiles, errors } = readSources(files);
      if (errors.length > 0) return Promise.resolve(refuse(400, `config refused: ${errors.length} error(s)`, errors));
      const byName = new Map(fromFiles.map((o) => [nameOf(o), o]));
      const merged = this.runningSources().map((s) => {
        const replacement = byName.get(nameOf(s));
        byName.delete(nameOf(s));
        return replacement ?? s;
      });
      return this.apply([...merged, ...byName.values()]);
    });
  }

  /** The first swap at start; nothing is persisted (the data dir wins only once a change was applied). */
  start(sources: SourcedObject[]): Promise<ChangeOutcome> {
    return this.serial(() => this.apply(sources, false));
  }

  /** Discovery found other addresses: the running objects are applied again (new endpoints, same objects). */
  rediscover(): Promise<ChangeOutcome> {
    return this.serial(() => this.apply(this.runningSources(), false));
  }

  private runningSources(): SourcedObject[] {
    return this.store.list().map(running);
  }

  private serial(fn: () => Promise<ChangeOutcome>): Promise<ChangeOutcome> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async apply(sources: SourcedObject[], persist = true): Promise<ChangeOutcome> {
    const validated = validateObjects(sources);
    if (validated.errors.length > 0) return refuse(400, `refused: ${validated.errors.length} error(s)`, validated.errors);
    const generation = this.target.committedGeneration + 1;
    const site = (server: string): { file: string | undefined; line: number | undefined } => {
      const src = sources.find((o) => nameOf(o) === server);
      return { file: src?.file, line: src?.line(['port']) };
    };
    const ports = await resolvePorts(compileConfig(validated.objects, generation), this.current.servers, site);
    if (!ports.ok) return refuse(409, `refused: ${ports.errors.length} error(s)`, ports.errors);
    const compiled = ports.config;
    const expanded = this.discovery === null ? compiled : await this.discovery.expand(compiled);
    const restoreSlots = this.slots.snapshot();
    let assigned: CompiledConfig;
    try {
      assigned = this.slots.assign(expanded);
    } catch (err) {
      restoreSlots();
      return refuse(409, (err as Error).message);
    }
    const undoBeforeSwap = this.beforeSwap(assigned);
    const result = await this.target.swap(assigned);
    if (!result.ok) {
      undoBeforeSwap();
      restoreSlots();
      const timeout = (result.error ?? '').includes('did not answer');
      return refuse(timeout ? 500 : 409, result.error ?? 'the workers refused the change');
    }
    this.current = compiled;
    this.listeners = result.listeners;
    this.discovery?.commit();
    this.onCommitted(assigned);
    this.store.set(pairWithRaw(validated.objects, sources));
    if (persist) {
      try {
        this.store.persist();
      } catch (err) {
        return refuse(500, `applied as generation ${result.generation} but not saved to ${this.store.file}: ${(err as Error).message}`);
      }
    }
    return { ok: true, generation: result.generation, listeners: result.listeners };
  }
}
