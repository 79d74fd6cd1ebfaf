import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FILTER_FACTORIES } from '../src/dataplane/filters/registry';
import { Pipeline } from '../src/dataplane/pipeline/pipeline';
import { Runtime } from '../src/dataplane/runtime';
import type { FilterEnv } from '../src/dataplane/pipeline/filter';
import type { CompiledConfig, CompiledPipeline } from '../src/config/compiled';

const closed: string[] = [];
FILTER_FACTORIES.TestHolds = (name) => ({ kind: 'TestHolds', name, handle: () => '', close: () => void closed.push(name) });
FILTER_FACTORIES.TestBreaks = () => {
  throw new Error('cannot build this filter');
};
const env = {} as FilterEnv;

function pipeline(name: string, kinds: string[]): CompiledPipeline {
  return { name, steps: [], filters: kinds.map((kind, i) => ({ kind, name: `${name}-${i}`, spec: {} })) } as unknown as CompiledPipeline;
}

describe('a generation that fails to build', () => {
  after(() => {
    delete FILTER_FACTORIES.TestHolds;
    delete FILTER_FACTORIES.TestBreaks;
  });

  it('closes the filters of a pipeline built before one of them threw', () => {
    closed.length = 0;
    assert.throws(() => new Pipeline(pipeline('p', ['TestHolds', 'TestHolds', 'TestBreaks']), env), /cannot build/);
    assert.deepEqual(closed, ['p-0', 'p-1']);
  });

  it('closes the pipelines built before another one threw', () => {
    closed.length = 0;
    const compiled = { generation: 2, servers: [], pipelines: [pipeline('a', ['TestHolds']), pipeline('b', ['TestBreaks'])] } as unknown as CompiledConfig;
    assert.throws(() => new Runtime(compiled, env), /cannot build/);
    assert.deepEqual(closed, ['a-0']);
  });
});
