import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { CompiledConfig } from '../src/config/compiled';
import type { SwapResult } from '../src/control/broadcast';
import { SlotAllocator } from '../src/control/slot-allocator';
import { ObjectService, type SwapTarget } from '../src/control/store/object-service';
import { ObjectStore } from '../src/control/store/object-store';

const PIPELINE = (name: string): string => `kind: Pipeline
name: ${name}
filters: [{ name: m, kind: Mock, rules: [{ body: fine }] }]
`;

/** Commits the first swap (the start); on the next one the drain begins while the workers answer, so they refuse it. */
class DrainDuringSwap implements SwapTarget {
  committedGeneration = 0;
  service: ObjectService | null = null;
  swap(compiled: CompiledConfig): Promise<SwapResult> {
    if (this.committedGeneration === 0) {
      this.committedGeneration = compiled.generation;
      return Promise.resolve({ ok: true, generation: compiled.generation, error: null, listeners: [] });
    }
    this.service?.close();
    return Promise.resolve({ ok: false, generation: compiled.generation, error: `worker 0 refused generation ${compiled.generation}: ngate is shutting down: no config changes`, listeners: [] });
  }
}

describe('ObjectService: a drain that begins during a swap', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ngate-service-drain-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answers the change with 503 NGATE_ERR_SHUTTING_DOWN, not the workers\' 409', async () => {
    const target = new DrainDuringSwap();
    const service = new ObjectService(new ObjectStore(dir), target, new SlotAllocator());
    target.service = service;
    const first = service.parseOne(PIPELINE('a'));
    assert.ok('object' in first);
    assert.equal((await service.start([first.object])).ok, true);
    const next = service.parseOne(PIPELINE('b'));
    assert.ok('object' in next);
    const outcome = await service.create(next.object);
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok);
    assert.equal(outcome.status, 503);
    assert.equal(outcome.code, 'NGATE_ERR_SHUTTING_DOWN');
    assert.equal(outcome.error, 'ngate is shutting down: no config changes');
  });
});
