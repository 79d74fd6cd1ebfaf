/**
 * The object API (Easegress paths): create, update, get, list, delete, and
 * status. Bodies are YAML or JSON. A mutating call answers only after every
 * worker runs the new generation, or with why it was refused (nothing changed).
 */
import { redactSecrets } from './redact';
import { formatConfigError } from '../../config/validate';
import { BATCH_MODES, type BatchMode, type ChangeOutcome, type ObjectService } from '../store/object-service';
import type { ObjectStore } from '../store/object-store';
import { json, type AdminReply, type AdminServer } from './admin-server';

export interface ObjectRoutesDeps {
  readonly store: ObjectStore;
  readonly service: ObjectService;
  readonly configFiles: string[];
  generation(): number;
}

export function outcomeReply(outcome: ChangeOutcome, okStatus: number, what: Record<string, unknown>): AdminReply {
  if (outcome.ok) return json(okStatus, { ...what, generation: outcome.generation });
  return json(outcome.status, {
    error: outcome.error,
    errors: outcome.errors.map((e) => ({ ...e, text: formatConfigError(e) })),
  });
}

function describe(o: { value: unknown }): Record<string, unknown> {
  const v = o.value as { kind?: unknown; name?: unknown };
  return { kind: v.kind, name: v.name };
}

export function registerObjectRoutes(admin: AdminServer, deps: ObjectRoutesDeps): void {
  const { store, service } = deps;

  admin.route('POST', '/apis/v2/objects', async (req) => {
    const parsed = service.parseOne(req.body);
    if ('refusal' in parsed) return outcomeReply(parsed.refusal, 201, {});
    return outcomeReply(await service.create(parsed.object), 201, describe(parsed.object));
  });

  // Every object of a multi-document body as one change (one generation); ?mode=create|update|apply.
  admin.route('POST', '/apis/v2/objects/batch', async (req) => {
    const mode = req.query.get('mode') ?? 'apply';
    if (!(BATCH_MODES as readonly string[]).includes(mode)) return json(400, { error: `mode must be one of ${BATCH_MODES.join(', ')}, not ${JSON.stringify(mode)}`, errors: [] });
    const parsed = service.parseMany(req.body);
    if ('refusal' in parsed) return outcomeReply(parsed.refusal, 200, {});
    const { outcome, items } = await service.batch(parsed.objects, mode as BatchMode);
    return outcomeReply(outcome, 200, { objects: items });
  });

  admin.route('PUT', '/apis/v2/objects/:name', async (req) => {
    const parsed = service.parseOne(req.body);
    if ('refusal' in parsed) return outcomeReply(parsed.refusal, 200, {});
    return outcomeReply(await service.update(req.params.name ?? '', parsed.object), 200, describe(parsed.object));
  });

  admin.route('DELETE', '/apis/v2/objects/:name', async (req) => {
    const name = req.params.name ?? '';
    return outcomeReply(await service.delete(name, req.query.get('kind') ?? undefined), 200, { name, deleted: true });
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
        return { kind: o.spec.kind, name: o.spec.name, status: 'running', ...(l !== undefined && o.spec.kind === 'HTTPServer' ? { listen: `${l.address}:${l.port}` } : {}) };
      }),
    });
  });

  admin.route('POST', '/apis/v2/reload', async () => outcomeReply(await service.reload(deps.configFiles), 200, { reloaded: deps.configFiles }));
}
