import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { compileConfig } from '../src/config/compile';
import type { CompiledConfig } from '../src/config/compiled';
import { parseConfigText } from '../src/config/load';
import { validateObjects } from '../src/config/validate';
import { SlotAllocator } from '../src/control/slot-allocator';
import { createSharedState } from '../src/shared/sab-layout';
import { createStatsBuffer } from '../src/shared/stats-layout';
import type { FromWorker, ToWorker } from '../src/shared/messages';
import { closedPort, connectResult } from './helpers/raw';

function generation(gen: number, port: number): CompiledConfig {
  const parsed = parseConfigText(
    `kind: HTTPServer
name: edge
address: 127.0.0.1
port: ${port}
rules: [{ paths: [{ pathPrefix: /, backend: p }] }]
---
kind: Pipeline
name: p
filters: [{ name: m, kind: Mock, rules: [{ body: fine }] }]
`,
    'test',
  );
  const checked = validateObjects(parsed.objects);
  assert.deepEqual(checked.errors, []);
  return new SlotAllocator().assign(compileConfig(checked.objects, gen));
}

describe('a draining worker', () => {
  // A worker that loaded uWS is never terminated from a test (that can abort the process); it ends with the test process.
  const workers: Worker[] = [];
  after(() => {
    for (const w of workers) w.unref();
  });

  it('refuses a prepare, and a commit prepared before the drain, without binding a listener', async () => {
    const file = path.join(__dirname, '..', 'src', 'worker', 'main.js');
    const w = new Worker(file, { workerData: { index: 0, shared: createSharedState().buffer, stats: createStatsBuffer(1), workers: 1 } });
    workers.push(w);
    const inbox: FromWorker[] = [];
    const waiters: { match: (m: FromWorker) => boolean; resolve: (m: FromWorker) => void }[] = [];
    w.on('message', (m: FromWorker) => {
      const i = waiters.findIndex((x) => x.match(m));
      if (i >= 0) waiters.splice(i, 1)[0]?.resolve(m);
      else inbox.push(m);
    });
    const next = (match: (m: FromWorker) => boolean): Promise<FromWorker> =>
      new Promise((resolve) => {
        const i = inbox.findIndex(match);
        if (i >= 0) resolve(inbox.splice(i, 1)[0] as FromWorker);
        else waiters.push({ match, resolve });
      });
    const send = (m: ToWorker): void => w.postMessage(m);
    const answerTo = (gen: number): Promise<FromWorker> => next((m) => 'gen' in m && m.gen === gen);
    await next((m) => m.type === 'started');

    // Prepared before the drain, committed after it: refused, and its listener stays closed.
    const early = await closedPort();
    send({ type: 'prepare', gen: 1, compiled: generation(1, early) });
    assert.equal((await answerTo(1)).type, 'prepared');
    send({ type: 'drain', timeoutMs: 1_000 });
    await next((m) => m.type === 'drained');
    send({ type: 'commit', gen: 1 });
    const committed = await answerTo(1);
    assert.equal(committed.type, 'refused', JSON.stringify(committed));
    assert.equal(await connectResult(early), 'ECONNREFUSED');

    // Prepared during the drain: refused before anything is bound.
    const late = await closedPort();
    send({ type: 'prepare', gen: 2, compiled: generation(2, late) });
    const prepared = await answerTo(2);
    assert.deepEqual(prepared, { type: 'refused', worker: 0, gen: 2, error: 'ngate is shutting down: no config changes' });
    assert.equal(await connectResult(late), 'ECONNREFUSED');
  });
});
