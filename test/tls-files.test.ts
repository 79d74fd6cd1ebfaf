import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { withPemFiles } from '../src/dataplane/listener/tls-files';

describe('tls-files', () => {
  it('writes PEM to 0600 files in a private directory and removes them after use', () => {
    let seen = '';
    const out = withPemFiles((write) => {
      seen = write('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
      assert.equal(statSync(seen).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(seen)).mode & 0o777, 0o700);
      assert.match(readFileSync(seen, 'utf8'), /BEGIN CERTIFICATE/);
      return 42;
    });
    assert.equal(out, 42);
    assert.equal(existsSync(path.dirname(seen)), false);
  });

  it('removes the files when the use throws', () => {
    let seen = '';
    assert.throws(() =>
      withPemFiles((write) => {
        seen = write('pem');
        throw new Error('boom');
      }),
    /boom/);
    assert.equal(existsSync(path.dirname(seen)), false);
  });
});
