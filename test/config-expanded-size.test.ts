import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkExpandedSize, nodeBudget } from '../src/config/expanded-size';
import { parseConfigText } from '../src/config/load';

/** A flat anchor used many times: yaml's alias-count estimate is 1 per use, the real tree is 9M nodes. */
const FLAT_LAUGHS = `kind: Pipeline
name: flat
flow: []
a: &a0 [${Array.from({ length: 3000 }, () => '"lol"').join(', ')}]
b: [${Array.from({ length: 3000 }, () => '*a0').join(', ')}]
`;

describe('config: the expanded size of a YAML document is bounded', () => {
  it('a flat anchor referenced 3000 times (9M nodes from ~30 KB) is refused at the document line', () => {
    const r = parseConfigText(FLAT_LAUGHS, 'flat.yaml');
    assert.equal(r.objects.length, 0);
    assert.deepEqual(r.errors, [{ file: 'flat.yaml', line: 1, message: 'YAML: the document expands to more than 1000000 nodes through its aliases (refused as a resource exhaustion guard)' }]);
  });

  it('the same anchor referenced 300 times (~0.9M nodes) is accepted', () => {
    const r = parseConfigText(FLAT_LAUGHS.replace(/b: \[.*\]/, `b: [${Array.from({ length: 300 }, () => '*a0').join(', ')}]`), 'ok.yaml');
    assert.deepEqual(r.errors, []);
    assert.equal(r.objects.length, 1);
  });

  it('the budget is counted per document and never refuses a file without aliases', () => {
    const doc = (name: string): string => FLAT_LAUGHS.replace('name: flat', `name: ${name}`).replace(/b: \[.*\]/, `b: [${Array.from({ length: 300 }, () => '*a0').join(', ')}]`);
    const r = parseConfigText(`${doc('one')}---\n${doc('two')}`, 'two.yaml');
    assert.deepEqual(r.errors, []);
    assert.equal(r.objects.length, 2);
    assert.equal(nodeBudget(10), 1_000_000);
    assert.equal(nodeBudget(5_000_000), 5_000_000);
  });

  it('counts every node, each shared target in full at each reference, and stops at the budget', () => {
    const leaf = [1, 2, 3];
    assert.deepEqual(checkExpandedSize({ a: leaf, b: leaf }, 9), { ok: true });
    assert.deepEqual(checkExpandedSize({ a: leaf, b: leaf }, 8), { ok: false, reason: 'too-large' });
    assert.deepEqual(checkExpandedSize('x', 1), { ok: true });
    assert.deepEqual(checkExpandedSize('x', 0), { ok: false, reason: 'too-large' });
  });

  it('an alias to its own ancestor is refused as a cycle, not walked forever', () => {
    const r = parseConfigText('kind: Pipeline\nname: c\nflow: []\na: &a [1, *a]\n', 'cycle.yaml');
    assert.deepEqual(r.errors, [{ file: 'cycle.yaml', line: 1, message: 'YAML: an alias refers to a node that contains it (a cycle)' }]);
  });
});
