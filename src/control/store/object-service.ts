/**
 * Every change to the running objects goes through here, one at a time:
 * build the whole resulting set, validate it, compile it, resolve ports,
 * assign shared-memory slots, write it beside the data dir file, swap it
 * into every worker, and only then keep it in the store and rename the file
 * into place. Any refusal leaves everything as it was.
 */
import { compileConfig } from '../../config/compile';
import type { CompiledConfig, CompiledServer } from '../../config/compiled';
import { withPathsUnder } from '../../config/absolute-paths';
import { parseConfigText, type SourcedObject } from '../../config/load';
import { KIND_ALIASES, validateObjects, type ConfigError } from '../../config/validate';
import type { ListenerInfo } from '../../shared/messages';
import { ERROR_STATUS, type ErrorCode } from '../../shared/errors';
import type { SwapResult } from '../broadcast';
import type { SlotAllocator } from '../slot-allocator';
import type { Discovery } from '../discovery/dns-discovery';
import { pairWithRaw, readSources, type ObjectStore, type PendingSave, type StoredObject } from './object-store';
import { restorePlaceholders } from './placeholders';
import { resolvePorts } from './resolve-ports';

export type ChangeOutcome =
  | {
      readonly ok: true;
      readonly generation: number;
      readonly listeners: ListenerInfo[];
      /** `Kind/name` of each object the change is about. */
      readonly objects: string[];
      /** What `ngate validate` would warn about in the applied set: about the changed objects, or new with this change (see changeWarnings). */
      readonly warnings: ConfigError[];
    }
  | { readonly ok: false; readonly status: number; readonly error: string; readonly errors: ConfigError[]; /** A stable NGATE_ERR_* code when the refusal has one. */ readonly code?: ErrorCode };

export interface SwapTarget {
  swap(compiled: CompiledConfig): Promise<SwapResult>;
  readonly committedGeneration: number;
}

function refuse(status: number, error: string, errors: ConfigError[] = []): ChangeOutcome {
  return { ok: false, status, error, errors };
}

function placeholderRefusal(errors: ConfigError[]): ChangeOutcome {
  return refuse(400, `refused: ${errors.length} secret(s) given as the placeholder \`get\` prints; supply the real value`, errors);
}

/**
 * An object's kind is part of its identity: a name is not silently taken over by another kind.
 * Each offending object is named at its `kind` line, as every other refusal of a request names its line.
 */
function kindChange(changes: { given: SourcedObject; existing: StoredObject }[]): ChangeOutcome {
  const what = (existing: StoredObject): string => `${existing.spec.kind}/${existing.spec.name} exists; delete it first`;
  const errors = changes.map(({ given, existing }) => ({ file: given.file, line: given.line(['kind']), object: labelOf(given), path: 'kind', message: `kind cannot change (${what(existing)})` }));
  const first = changes[0] as { existing: StoredObject };
  return refuse(409, changes.length === 1 ? `kind cannot change (${what(first.existing)})` : `${changes.length} objects cannot change kind`, errors);
}

/** A warning without its place: a running object applied again has no line, but it is the same warning. */
function warningKey(w: ConfigError): string {
  return `${w.object}\n${w.path}\n${w.message}`;
}

/** A running object applied again, still read relative to the file it came from. */
function running(o: StoredObject): SourcedObject {
  return { value: o.raw, file: o.file ?? 'running objects', line: () => undefined };
}

function nameOf(o: SourcedObject): string | undefined {
  const v = o.value as { name?: unknown } | null;
  return v !== null && typeof v === 'object' && typeof v.name === 'string' ? v.name : undefined;
}

/** The object's kind after alias normalisation (HTTPPipeline is a Pipeline); undefined when unknown (validation says why). */
function kindOf(o: SourcedObject): string | undefined {
  const v = o.value as { kind?: unknown } | null;
  return v !== null && typeof v === 'object' && typeof v.kind === 'string' ? KIND_ALIASES[v.kind] : undefined;
}

/** `Kind/name` as the object was written. */
function labelOf(o: SourcedObject): string {
  return `${String((o.value as { kind?: unknown }).kind)}/${nameOf(o) ?? ''}`;
}

/** The objects of a request body, numbered as in the body for errors. */
function requestObjects(objects: SourcedObject[]): SourcedObject[] {
  return objects.map((o, i) => ({ ...o, label: `object #${i + 1} (in the request)` }));
}

/**
 * The object with its relative file paths made absolute against `baseDir`
 * (the directory of the file the client read it from; the gateway's working
 * directory without it). After placeholders are restored: `[redacted private key]` is no path.
 */
function under(o: SourcedObject, baseDir: string | undefined): SourcedObject {
  const v = o.value;
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? { ...o, value: withPathsUnder(v as Record<string, unknown>, baseDir) } : o;
}

/** Once the gateway drains, no change may reopen a listener or rewrite the data dir (nginx and Envoy do not reopen either). */
export const SHUTTING_DOWN: ChangeOutcome = {
  ok: false,
  status: ERROR_STATUS.NGATE_ERR_SHUTTING_DOWN,
  code: 'NGATE_ERR_SHUTTING_DOWN',
  error: 'ngate is shutting down: no config changes',
  errors: [],
};

/** A refusal about one object of a request, with its line so the client can name `file:line`. */
/** A create of existing objects (409) or an update of missing ones (404): each one named at its line. */
function conflictRefusal(objects: SourcedObject[], mode: BatchMode): ChangeOutcome {
  const create = mode === 'create';
  const message = create ? 'already exists; use update' : 'not found; use create';
  const errors = objects.map((o) => ({ file: o.file, line: o.line([]), object: labelOf(o), path: '', message }));
  const first = nameOf(objects[0] as SourcedObject) as string;
  const error =
    objects.length === 1 ? (create ? `object ${first} already exists; use update` : `object ${first} not found`) : create ? `${objects.length} objects already exist; use update` : `${objects.length} objects not found`;
  return refuse(create ? 409 : 404, error, errors);
}

/** How a batch treats each of its objects: create refuses existing names, update refuses missing ones, apply does either. */
export type BatchMode = 'create' | 'update' | 'apply';
export const BATCH_MODES: readonly BatchMode[] = ['create', 'update', 'apply'];

export interface BatchItem {
  readonly kind: unknown;
  readonly name: string;
  readonly action: 'created' | 'updated';
}

export class ObjectService {
  private queue: Promise<unknown> = Promise.resolve();
  /** Set by close() when the gateway starts draining: every later change is refused. */
  private closed = false;
  /** The committed config with concrete ports. */
  private current: CompiledConfig = { generation: 0, servers: [], pipelines: [] };
  listeners: ListenerInfo[] = [];
  /** warningKey() of every warning of the committed set: a change answers only those it brings, and those about its own objects. */
  private warned = new Set<string>();

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
    /** Asked about a config with slots before anything changes: a reason refuses it (500), null lets it through. */
    private readonly admit: (assigned: CompiledConfig) => string | null = () => null,
  ) {}

  /** The gateway drains: changes queued or asked for from now on are refused with SHUTTING_DOWN. */
  close(): void {
    this.closed = true;
  }

  /** SHUTTING_DOWN once close() was called, else null (asked before parsing a request, so a drain answers 503 first). */
  get refusal(): ChangeOutcome | null {
    return this.closed ? SHUTTING_DOWN : null;
  }

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
    const object = requestObjects(parsed.objects)[0] as SourcedObject;
    if (nameOf(object) === undefined) return { refusal: refuse(400, 'the object has no name', [{ file: 'request body', line: object.line([]), object: 'request body', path: 'name', message: 'expected a name' }]) };
    return { object };
  }

  /**
   * The stored object called `name`, checked against `kind` when one is given
   * (aliases compare equal): another kind under that name is not found.
   */
  lookup(name: string, kind: string | undefined): { found: StoredObject } | { refusal: ChangeOutcome } {
    const wanted = kind === undefined ? undefined : KIND_ALIASES[kind];
    if (kind !== undefined && wanted === undefined) return { refusal: refuse(400, `unknown kind ${JSON.stringify(kind)} (known: ${Object.keys(KIND_ALIASES).join(', ')})`) };
    const found = this.store.get(name);
    if (found === undefined) return { refusal: refuse(404, kind === undefined ? `object ${name} not found` : `no ${kind} named "${name}"`) };
    if (wanted !== undefined && found.spec.kind !== wanted) return { refusal: refuse(404, `no ${kind as string} named "${name}"`) };
    return { found };
  }

  /** Parses every object of a request body (JSON or YAML, one or more documents); lines are the body's. */
  parseMany(body: string): { objects: SourcedObject[] } | { refusal: ChangeOutcome } {
    const parsed = parseConfigText(body, 'request body');
    if (parsed.errors.length > 0) {
      const errors = parsed.errors.map((e) => ({ file: e.file, line: e.line, object: 'request body', path: '', message: e.message }));
      return { refusal: refuse(400, 'the request body is not valid YAML or JSON', errors) };
    }
    if (parsed.objects.length === 0) return { refusal: refuse(400, 'no object in the request body') };
    const unnamed = parsed.objects.filter((o) => nameOf(o) === undefined);
    if (unnamed.length > 0) {
      const errors = unnamed.map((o) => ({ file: 'request body', line: o.line([]), object: 'request body', path: 'name', message: 'expected a name' }));
      return { refusal: refuse(400, `${unnamed.length} object(s) have no name`, errors) };
    }
    return { objects: requestObjects(parsed.objects) };
  }

  /**
   * Several objects as one change: one validation of the whole resulting set
   * and one generation, so a refused object leaves every other one unapplied.
   * `baseDir`: what relative file paths in the objects are relative to (see under()).
   */
  batch(objects: SourcedObject[], mode: BatchMode, baseDir?: string): Promise<{ outcome: ChangeOutcome; items: BatchItem[] }> {
    let items: BatchItem[] = [];
    const outcome = this.serial(() => {
      const named = new Map<string, SourcedObject[]>();
      const unfilled: ConfigError[] = [];
      // Every object that create finds existing (or update missing), not only the first.
      const conflicts: SourcedObject[] = [];
      const kindChanges: { given: SourcedObject; existing: StoredObject }[] = [];
      for (const given of objects) {
        const name = nameOf(given) as string;
        const existing = this.store.get(name);
        if ((existing !== undefined && mode === 'create') || (existing === undefined && mode === 'update')) {
          conflicts.push(given);
          continue;
        }
        const kind = kindOf(given);
        if (existing !== undefined && kind !== undefined && existing.spec.kind !== kind) {
          kindChanges.push({ given, existing });
          continue;
        }
        const restored = this.restore(given);
        if ('errors' in restored) {
          unfilled.push(...restored.errors);
          continue;
        }
        const o = under(restored.object, baseDir);
        named.set(name, [...(named.get(name) ?? []), o]);
        items.push({ kind: (o.value as { kind?: unknown }).kind, name, action: existing === undefined ? 'created' : 'updated' });
      }
      if (conflicts.length > 0) return Promise.resolve(conflictRefusal(conflicts, mode));
      if (kindChanges.length > 0) return Promise.resolve(kindChange(kindChanges));
      if (unfilled.length > 0) return Promise.resolve(placeholderRefusal(unfilled));
      // Replaced objects keep their place; duplicates in the batch stay in so validation names both lines.
      const sources = this.runningSources().flatMap((s) => {
        const replacement = named.get(nameOf(s) as string);
        named.delete(nameOf(s) as string);
        return replacement ?? [s];
      });
      return this.apply([...sources, ...[...named.values()].flat()], true, items.map((i) => `${String(i.kind)}/${i.name}`));
    });
    return outcome.then((o) => {
      if (!o.ok) items = [];
      return { outcome: o, items };
    });
  }

  create(object: SourcedObject, baseDir?: string): Promise<ChangeOutcome> {
    return this.batch([object], 'create', baseDir).then((r) => r.outcome);
  }

  update(name: string, object: SourcedObject, baseDir?: string): Promise<ChangeOutcome> {
    if (nameOf(object) !== name) return Promise.resolve(refuse(400, `the name in the body (${nameOf(object) ?? 'none'}) does not match ${name} in the path`));
    return this.batch([object], 'update', baseDir).then((r) => r.outcome);
  }

  /** Deletes `name`; with a kind, only an object of that kind (aliases compare equal). */
  delete(name: string, kind?: string): Promise<ChangeOutcome> {
    return this.serial(() => {
      const found = this.lookup(name, kind);
      if ('refusal' in found) return Promise.resolve(found.refusal);
      return this.apply(this.runningSources().filter((s) => nameOf(s) !== name), true, [`${String(found.found.raw.kind)}/${name}`]);
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
      const restored = fromFiles.map((o) => this.restore(o));
      const unfilled = restored.flatMap((r) => ('errors' in r ? r.errors : []));
      if (unfilled.length > 0) return Promise.resolve(placeholderRefusal(unfilled));
      // A name twice in the files stays twice, so validation refuses it naming both places (not the last one silently).
      const byName = new Map<string | undefined, SourcedObject[]>();
      for (const r of restored) if ('object' in r) byName.set(nameOf(r.object), [...(byName.get(nameOf(r.object)) ?? []), r.object]);
      const merged = this.runningSources().flatMap((s) => {
        const replacement = byName.get(nameOf(s));
        byName.delete(nameOf(s));
        return replacement ?? [s];
      });
      return this.apply([...merged, ...[...byName.values()].flat()], true, fromFiles.map(labelOf));
    });
  }

  /** The first swap at start; nothing is persisted (the data dir wins only once a change was applied). */
  start(sources: SourcedObject[]): Promise<ChangeOutcome> {
    return this.serial(() => this.apply(sources, false, sources.map(labelOf)));
  }

  /** Discovery found other addresses: the running objects are applied again (new endpoints, same objects). */
  rediscover(): Promise<ChangeOutcome> {
    return this.serial(() => this.apply(this.runningSources(), false, []));
  }

  /** Placeholders `get` printed take the secret of the running object of that name and kind (placeholders.ts). */
  private restore(o: SourcedObject): ReturnType<typeof restorePlaceholders> {
    const name = nameOf(o);
    const existing = name === undefined ? undefined : this.store.get(name);
    return restorePlaceholders(o, existing !== undefined && existing.spec.kind === kindOf(o) ? existing : undefined);
  }

  private runningSources(): SourcedObject[] {
    return this.store.list().map(running);
  }

  private serial(fn: () => Promise<ChangeOutcome>): Promise<ChangeOutcome> {
    // Checked when the change's turn comes: one queued behind a running change may find the gateway draining by then.
    const run = (): Promise<ChangeOutcome> => (this.closed ? Promise.resolve(SHUTTING_DOWN) : fn());
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** `changed`: `Kind/name` of the objects the change is about, for the answer and the log. */
  private async apply(sources: SourcedObject[], persist: boolean, changed: string[]): Promise<ChangeOutcome> {
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
    // The drain may have begun while ports were probed or names resolved.
    if (this.closed) return SHUTTING_DOWN;
    const restoreSlots = this.slots.snapshot();
    let assigned: CompiledConfig;
    try {
      assigned = this.slots.assign(expanded);
    } catch (err) {
      restoreSlots();
      return refuse(409, (err as Error).message);
    }
    const admitted = this.admit(assigned);
    if (admitted !== null) {
      restoreSlots();
      return refuse(500, admitted);
    }
    const stored = pairWithRaw(validated.objects, sources);
    // Written aside before the swap: a data dir that cannot take the change refuses it while nothing changed yet.
    let save: PendingSave | null = null;
    if (persist) {
      try {
        save = this.store.prepareSave(stored);
      } catch (err) {
        restoreSlots();
        return refuse(500, `refused: cannot save the change to ${this.store.file}: ${(err as Error).message}`);
      }
    }
    const undoBeforeSwap = this.beforeSwap(assigned);
    const result = await this.target.swap(assigned);
    if (!result.ok) {
      save?.discard();
      undoBeforeSwap();
      restoreSlots();
      // A drain that began during the swap makes the workers refuse it: that is the drain's answer, not a conflict.
      if (this.closed) return SHUTTING_DOWN;
      const timeout = (result.error ?? '').includes('did not answer');
      return refuse(timeout ? 500 : 409, result.error ?? 'the workers refused the change');
    }
    this.current = compiled;
    this.listeners = result.listeners;
    this.discovery?.commit();
    this.onCommitted(assigned);
    this.store.set(stored);
    if (save !== null) {
      try {
        save.commit();
      } catch (err) {
        // The file beside it was written a moment ago, so this is rare (the dir changed under us).
        return refuse(500, `applied as generation ${result.generation} but not saved to ${this.store.file}: ${(err as Error).message}`);
      }
    }
    return { ok: true, generation: result.generation, listeners: result.listeners, objects: changed, warnings: this.changeWarnings(validated.warnings, changed) };
  }

  /**
   * The warnings a change answers with: every one about an object it names
   * (as `validate` of that file would print them), and any other one it
   * brings (a route whose Pipeline was just deleted); not the unrelated ones
   * every earlier change already answered with.
   */
  private changeWarnings(warnings: ConfigError[], changed: string[]): ConfigError[] {
    const named = new Set(changed);
    const fresh = warnings.filter((w) => named.has(w.object) || !this.warned.has(warningKey(w)));
    this.warned = new Set(warnings.map(warningKey));
    return fresh;
  }
}
