import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderList } from '../src/dataplane/headers';

const vary = (fields: string[], token: string): string[] => {
  const h = new HeaderList(['content-type', 'text/plain', ...fields.flatMap((v) => ['vary', v])]);
  h.addVary(token);
  assert.equal(h.get('content-type'), 'text/plain');
  return h.getAll('vary');
};

describe('HeaderList.addVary', () => {
  it('adds a token once, case-insensitively, folding repeated Vary fields into one', () => {
    assert.deepEqual(vary([], 'Origin'), ['Origin']);
    assert.deepEqual(vary(['Accept-Encoding'], 'Origin'), ['Accept-Encoding, Origin']);
    assert.deepEqual(vary(['Accept-Encoding, ORIGIN'], 'Origin'), ['Accept-Encoding, ORIGIN']);
    assert.deepEqual(vary(['Accept-Encoding', 'Cookie'], 'Origin'), ['Accept-Encoding, Cookie, Origin']);
    assert.deepEqual(vary(['Accept-Encoding', 'origin'], 'Origin'), ['Accept-Encoding, origin']);
    assert.deepEqual(vary(['Origin-Agent'], 'Origin'), ['Origin-Agent, Origin']);
  });

  it('leaves Vary: * alone: it already covers every field', () => {
    assert.deepEqual(vary(['*'], 'Origin'), ['*']);
  });
});
