import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadUws } from '../src/dataplane/listener/uws-loader';

describe('uWebSockets.js loader', () => {
  it('loads a native binary, never the pure-JS fallback', () => {
    const loaded = loadUws();
    assert.equal(loaded.native, true);
    // The source names the .node file (trufflesuite) or a native package; the fallback would be its dist/index.js.
    assert.match(loaded.source, /\.node\)$|uWebSockets\.js|@btc-vision/);
    assert.doesNotMatch(loaded.source, /dist[/\\]index\.js/);
    assert.equal(typeof loaded.uws.App, 'function');
    // The native module's App is a native function: its source is not JavaScript.
    assert.match(Function.prototype.toString.call(loaded.uws.App), /\[native code\]/);
  });

  it('loads once and returns the same module', () => {
    assert.equal(loadUws(), loadUws());
  });
});
