import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCEPT_ENCODING_CACHE_MAX, acceptEncodingCacheSize, acceptedVariants, parseAcceptEncoding } from '../src/dataplane/static/accept-encoding';

const order = (header: string): string[] => parseAcceptEncoding(header).map((v) => v.encoding);

describe('Accept-Encoding for precompressed files', () => {
  it('matches whole tokens, case-insensitively', () => {
    assert.deepEqual(order('br'), ['br']);
    assert.deepEqual(order('BR'), ['br']);
    assert.deepEqual(order('GZIP'), ['gzip']);
    assert.deepEqual(order('x-gzip'), ['gzip']);
    assert.deepEqual(order('gzip, br'), ['br', 'gzip']);
    assert.deepEqual(order(' deflate ,  Br '), ['br']);
    assert.deepEqual(order('brotli, gzipped, xbr'), []);
    assert.deepEqual(order('identity'), []);
    assert.deepEqual(order(''), []);
    assert.deepEqual(order(',,'), []);
  });

  it('honours q-values: 0 refuses, the higher weight goes first, br first at equal weight', () => {
    assert.deepEqual(order('br;q=0'), []);
    assert.deepEqual(order('br;q=0, gzip'), ['gzip']);
    assert.deepEqual(order('gzip;q=1.0, br;q=0'), ['gzip']);
    assert.deepEqual(order('gzip;q=0.000, br;q=0.001'), ['br']);
    assert.deepEqual(order('gzip;q=0.9, br;q=0.5'), ['gzip', 'br']);
    assert.deepEqual(order('gzip;q=0.5, br;q=0.5'), ['br', 'gzip']);
    assert.deepEqual(order('gzip ; Q=0.8 , br;q=0.7'), ['gzip', 'br']);
    assert.deepEqual(order('br;level=5;q=0'), []);
    assert.deepEqual(order('br;q=0, br'), ['br']); // listed twice: the higher weight counts
  });

  it('treats * as any coding not named', () => {
    assert.deepEqual(order('*'), ['br', 'gzip']);
    assert.deepEqual(order('*;q=0'), []);
    assert.deepEqual(order('br;q=0, *'), ['gzip']);
    assert.deepEqual(order('gzip, *;q=0'), ['gzip']);
    assert.deepEqual(order('*;q=0.5, gzip'), ['gzip', 'br']);
  });

  it('weighs identity (the unencoded file) against the codings: explicit, by *, else acceptable by default', () => {
    assert.deepEqual(order('gzip;q=0.5, identity;q=1'), [], 'identity preferred: the unencoded file');
    assert.deepEqual(order('identity;q=1, gzip;q=0.5, br;q=0.9'), [], 'both below identity');
    assert.deepEqual(order('gzip;q=0.5, br, identity;q=0.8'), ['br'], 'only the codings above identity');
    assert.deepEqual(order('gzip;q=0.5, identity;q=0.5'), ['gzip'], 'equal weight: the compressed file');
    assert.deepEqual(order('IDENTITY;q=1, gzip;q=0.5'), []);
    assert.deepEqual(order('gzip;q=0.001'), ['gzip'], 'implicit identity loses to any weighted coding');
    assert.deepEqual(order('*;q=0.5, gzip;q=0.2'), ['br'], '* gives identity its weight');
    assert.deepEqual(order('*;q=0.5, gzip;q=0.2, identity;q=0.1'), ['br', 'gzip'], 'an explicit identity beats *');
    assert.deepEqual(order('identity;q=0, gzip;q=0.1'), ['gzip'], 'identity refused: any acceptable coding');
    assert.deepEqual(order('*;q=0, gzip;q=0.1'), ['gzip'], '*;q=0 refuses identity too');
    assert.deepEqual(order('identity;q=0.5, *;q=0'), [], 'br and gzip refused by *');
    assert.deepEqual(order('identity;q=abc, gzip;q=0.5'), ['gzip'], 'a malformed identity weight is ignored');
  });

  it('ignores an element with a malformed weight', () => {
    assert.deepEqual(order('br;q=2'), []);
    assert.deepEqual(order('br;q=abc, gzip'), ['gzip']);
    assert.deepEqual(order('br;q=0.0001'), []);
    assert.deepEqual(order('br;q=1.5, gzip;q=1.000'), ['gzip']);
  });

  it('remembers answers per header value, bounded', () => {
    assert.equal(acceptedVariants(undefined).length, 0);
    const a = acceptedVariants('gzip, br');
    assert.equal(acceptedVariants('gzip, br'), a);
    for (let i = 0; i < ACCEPT_ENCODING_CACHE_MAX * 2; i++) {
      acceptedVariants(`gzip;q=0.${i % 10}, x${i}`);
      assert.ok(acceptEncodingCacheSize() <= ACCEPT_ENCODING_CACHE_MAX);
    }
    assert.deepEqual(
      acceptedVariants('gzip, br').map((v) => v.encoding),
      ['br', 'gzip'],
    );
  });
});
