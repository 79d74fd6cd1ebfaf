/**
 * The object API (Easegress paths): create, update, get, list, delete, and
 * status. Bodies are YAML or JSON. A mutating call answers only after every
 * worker runs the new generation, or with why it was refused (nothing changed).
 */
import { isAbsolute } from 'node:path';
import { redactSecrets } from './redact';
import { logChange } from '../store/change-log';
import { formatConfigError } from '../../config/validate';
import { BATCH_MODES, type BatchMode, type ChangeOutcome, type ObjectService } from '../store/object-service';
import type { ObjectStore } from '../store/object-store';
import { json, type AdminReply, type AdminRequest, type AdminServer } from './admin-server';

export interface ObjectRoutesDeps {
  readonly store: ObjectStore;
  readonly service: ObjectService;
  readonly configFiles: string[];
  generation(): number;
}

export function outcomeReply(outcome: ChangeOutcome, okStatus: number, what: Record<string, unknown>): AdminReply {
  if (outcome.ok) {
    // Warnings as `ngate validate` gives them (text with file:line); the change is applied all the same.
    const warnings = outcome.warnings.map((e) => ({ ...e, text: formatConfigError(e) }));
    return json(okStatus, { ...what, generation: outcome.generation, ...(warnings.length === 0 ? {} : { warnings }) });
  }
  return json(outcome.status, {
    ...(outcome.code === undefined ? {} : { code: outcome.code }),
    error: outcome.error,
    errors: outcome.errors.map((e) => ({ ...e, text: formatConfigError(e) })),
  });
}

function describe(o: { value: unknown }): Record<string, unknown> {
  const v = o.value as { kind?: unknown; name?: unknown };
  return { kind: v.kind, name: v.name };
}

/** Every change through the API lands in the gateway log, as a SIGHUP reload does. */
function logged(what: string, outcome: ChangeOutcome): ChangeOutcome {
  logChange(what, outcome, { via: 'admin' });
  return outcome;
}

/**
 * `?baseDir=/abs/dir`: the directory of the file the objects were read from,
 * so relative paths in them (static roots, certificates) mean what they mean
 * to `ngate validate` and --config. Without it, the gateway's working directory.
 */
function baseDirOf(req: AdminRequest): { dir: string | undefined } | { refusal: ChangeOutcome } {
  const dir = req.query.get('baseDir');
  if (dir === null) return { dir: undefined };
  if (!isAbsolute(dir)) return { refusal: { ok: false, status: 400, error: `baseDir must be an absolute path, not ${JSON.stringify(dir)}`, errors: [] } };
  return { dir };
}

export function registerObjectRoutes(admin: AdminServer, deps: ObjectRoutesDeps): void {
  const { store, service } = deps;

  admin.route('POST', '/apis/v2/objects', async (req) => {
    if (service.refusal !== null) return outcomeReply(logged('create', service.refusal), 201, {});
    const base = baseDirOf(req);
    if ('refusal' in base) return outcomeReply(logged('create', base.refusal), 201, {});
    const parsed = service.parseOne(req.body);
    if ('refusal' in parsed) return outcomeReply(logged('create', parsed.refusal), 201, {});
    return outcomeReply(logged('create', await service.create(parsed.object, base.dir)), 201, describe(parsed.object));
  });

  // Every object of a multi-document body as one change (one generation); ?mode=create|update|apply.
  admin.route('POST', '/apis/v2/objects/batch', async (req) => {
    const mode = req.query.get('mode') ?? 'apply';
    if (service.refusal !== null) return outcomeReply(logged(mode, service.refusal), 200, {});
    if (!(BATCH_MODES as readonly string[]).includes(mode)) return json(400, { error: `mode must be one of ${BATCH_MODES.join(', ')}, not ${JSON.stringify(mode)}`, errors: [] });
    const base = baseDirOf(req);
    if ('refusal' in base) return outcomeReply(logged(mode, base.refusal), 200, {});
    const parsed = service.parseMany(req.body);
    if ('refusal' in parsed) return outcomeReply(logged(mode, parsed.refusal), 200, {});
    const { outcome, items } = await service.batch(parsed.objects, mode as BatchMode, base.dir);
    return outcomeReply(logged(mode, outcome), 200, { objects: items });
  });

  admin.route('PUT', '/apis/v2/objects/:name', async (req) => {
    if (service.refusal !== null) return outcomeReply(logged('update', service.refusal), 200, {});
    const base = baseDirOf(req);
    if ('refusal' in base) return outcomeReply(logged('update', base.refusal), 200, {});
    const parsed = service.parseOne(req.body);
    if ('refusal' in parsed) return outcomeReply(logged('update', parsed.refusal), 200, {});
    return outcomeReply(logged('update', await service.update(req.params.name ?? '', parsed.object, base.dir)), 200, describe(parsed.object));
  });

  admin.route('DELETE', '/apis/v2/objects/:name', async (req) => {
    const name = req.params.name ?? '';
    const outcome = logged('delete', await service.delete(name, req.query.get('kind') ?? undefined));
    // The kind as the object was written: `Kind/name`, the way create and apply name it.
    const kind = outcome.ok ? outcome.objects[0]?.split('/')[0] : undefined;
    return outcomeReply(outcome, 200, { kind, name, deleted: true });
  });

  admin.route('GET', '/apis/v2/objects', () => json(200, store.list().map((o) => redactSecrets(o.raw))));

  admin.route('GET', '/apis/v2/objects/:name', (req) => {
    const found = service.lookup(req.params.name ?? '', req.query.get('kind') ?? undefined);
    return 'refusal' in found ? outcomeReply(found.refusal, 200, {}) : json(200, redactSecrets(found.found.raw));
  });

  admin.route('GET', '/apis/v2/status/objects', () => {
    const listening = new Map(service.listeners.map((l) => [l.name, l]));
    return json(200, {
      generation: deps.generation(),
      objects: store.list().map((o) => {
        const l = listening.get(o.spec.name);
        // The kind as written (HTTPPipeline stays HTTPPipeline), as list, get and delete show it.
        const kind = typeof o.raw.kind === 'string' ? o.raw.kind : o.spec.kind;
        return { kind, name: o.spec.name, status: 'running', ...(l !== undefined && o.spec.kind === 'HTTPServer' ? { listen: `${l.address}:${l.port}` } : {}) };
      }),
    });
  });

  admin.route('POST', '/apis/v2/reload', async () => {
    const outcome = await service.reload(deps.configFiles);
    logChange('reload', outcome, { via: 'admin', files: deps.configFiles.join(',') }, 'ERROR');
    return outcomeReply(outcome, 200, { reloaded: deps.configFiles });
  });
}
