import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ObjectStore } from '../src/control/store/object-store';
import { writeAside } from '../src/shared/durable-file';
import { decodeUtf8, InvalidUtf8 } from '../src/shared/utf8';

const newDir = (): string => mkdtempSync(path.join(tmpdir(), 'ngate-durable-'));
const pipeline = { spec: { kind: 'Pipeline', name: 'p', flow: [], filters: [] } as never, raw: { kind: 'Pipeline', name: 'p' }, file: undefined };

describe('durable files leave no temp file behind', () => {
  it('writeAside removes its temp file when the write fails', () => {
    const dir = newDir();
    const file = path.join(dir, 'running_objects.yaml');
    // The temp name is deterministic: point it at a device that refuses every write (ENOSPC).
    symlinkSync('/dev/full', `${file}.tmp-${process.pid}`);
    assert.throws(() => writeAside(file, 'x'.repeat(1024)), { code: 'ENOSPC' });
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a save whose rename fails removes the file written aside', () => {
    const dir = newDir();
    // A non-empty directory where running_objects.yaml should go: the rename fails.
    mkdirSync(path.join(dir, 'running_objects.yaml'));
    writeFileSync(path.join(dir, 'running_objects.yaml', 'keep'), '');
    const save = new ObjectStore(dir).prepareSave([pipeline]);
    assert.ok(existsSync(save.tmp));
    assert.throws(() => save.commit());
    assert.deepEqual(readdirSync(dir), ['running_objects.yaml']);
  });

  it('a discarded save removes the file written aside; a committed one is in place', () => {
    const dir = newDir();
    const store = new ObjectStore(dir);
    store.prepareSave([pipeline]).discard();
    assert.deepEqual(readdirSync(dir), []);
    store.prepareSave([pipeline]).commit();
    assert.deepEqual(readdirSync(dir), ['running_objects.yaml']);
  });

  it('a data dir under a regular file cannot be saved to and says so without writing', () => {
    const file = path.join(newDir(), 'plain');
    writeFileSync(file, '');
    const store = new ObjectStore(path.join(file, 'data'));
    assert.match(store.unwritableReason() ?? '', /ENOTDIR/);
    assert.throws(() => store.prepareSave([pipeline]), { code: 'ENOTDIR' });
    assert.equal(new ObjectStore(path.join(newDir(), 'not', 'made', 'yet')).unwritableReason(), null);
  });
});

describe('strict UTF-8', () => {
  it('decodes valid text (a BOM kept) and names the first invalid byte', () => {
    assert.equal(decodeUtf8(Buffer.from('\uFEFFcafé ✓ 𝄞')), '\uFEFFcafé ✓ 𝄞');
    const offset = (bytes: number[]): number => {
      try {
        decodeUtf8(Buffer.concat([Buffer.from('ab'), Buffer.from(bytes)]));
      } catch (err) {
        assert.ok(err instanceof InvalidUtf8);
        return err.offset;
      }
      return -1;
    };
    assert.equal(offset([0xe9, 0x41]), 2, 'latin-1 é');
    assert.equal(offset([0xc3, 0xa9, 0xff]), 4, 'after a valid é');
    assert.equal(offset([0xc0, 0x80]), 2, 'overlong');
    assert.equal(offset([0xed, 0xa0, 0x80]), 2, 'surrogate');
    assert.equal(offset([0xf4, 0x90, 0x80, 0x80]), 2, 'over U+10FFFF');
    assert.equal(offset([0x41, 0xe2, 0x9c]), 3, 'truncated at the end');
  });
});
