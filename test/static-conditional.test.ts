import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderList } from '../src/dataplane/headers';
import { methodSet } from '../src/dataplane/router/route';
import { preconditions } from '../src/dataplane/static/conditional';
import { directoryLocation } from '../src/dataplane/static/site';

const ETAG = '"3-18df"';
const MTIME = Date.parse('Fri, 01 Mar 2024 12:00:00 GMT') + 500; // Last-Modified shows whole seconds
const NOW = Date.parse('Sat, 02 Mar 2024 00:00:00 GMT');
const AT = 'Fri, 01 Mar 2024 12:00:00 GMT';
const BEFORE = 'Fri, 01 Mar 2024 11:59:59 GMT';
const FUTURE = 'Sun, 03 Mar 2024 00:00:00 GMT'; // later than NOW

function outcome(fields: Record<string, string>): string {
  const headers = new HeaderList();
  for (const [k, v] of Object.entries(fields)) headers.add(k, v);
  return preconditions(headers, ETAG, MTIME, NOW);
}

describe('static preconditions (RFC 9110 §13)', () => {
  it('If-Modified-Since: 304 when not modified since; a future, invalid or lenient-looking date is ignored', () => {
    assert.equal(outcome({}), 'ok');
    assert.equal(outcome({ 'if-modified-since': AT }), 'not-modified');
    assert.equal(outcome({ 'if-modified-since': BEFORE }), 'ok');
    assert.equal(outcome({ 'if-modified-since': FUTURE }), 'ok', 'later than now: the client clock is off');
    assert.equal(outcome({ 'if-modified-since': 'Friday, 01-Mar-24 12:00:00 GMT' }), 'not-modified', 'RFC 850 form');
    assert.equal(outcome({ 'if-modified-since': 'Fri Mar  1 12:00:00 2024' }), 'not-modified', 'asctime form');
    // asctime has no zone: it is GMT whatever the host's zone (Node applies a changed TZ at once).
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo';
    try {
      assert.equal(outcome({ 'if-modified-since': 'Fri Mar  1 12:00:00 2024' }), 'not-modified', 'asctime read as GMT, not local time');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
    for (const bad of ['2025', '1', 'garbage', `${AT}, ${AT}`, 'fri, 01 mar 2024 12:00:00 gmt']) {
      assert.equal(outcome({ 'if-modified-since': bad }), 'ok', bad);
    }
  });

  it('If-Match: strong comparison, * matches the existing file, fails with 412', () => {
    assert.equal(outcome({ 'if-match': '"zzz"' }), 'failed');
    assert.equal(outcome({ 'if-match': `W/${ETAG}` }), 'failed', 'a weak tag never matches strongly');
    assert.equal(outcome({ 'if-match': `"a", ${ETAG}` }), 'ok');
    assert.equal(outcome({ 'if-match': '*' }), 'ok');
  });

  it('If-Unmodified-Since: fails when modified after the date; ignored beside If-Match or when not a date', () => {
    assert.equal(outcome({ 'if-unmodified-since': BEFORE }), 'failed');
    assert.equal(outcome({ 'if-unmodified-since': AT }), 'ok');
    assert.equal(outcome({ 'if-unmodified-since': '1' }), 'ok', 'Date.parse would take "1" for 2001');
    assert.equal(outcome({ 'if-unmodified-since': `${AT}, ${BEFORE}` }), 'ok');
    assert.equal(outcome({ 'if-match': ETAG, 'if-unmodified-since': BEFORE }), 'ok');
    assert.equal(outcome({ 'if-match': '"zzz"', 'if-unmodified-since': AT }), 'failed');
  });

  it('evaluates If-Match / If-Unmodified-Since before If-None-Match / If-Modified-Since', () => {
    assert.equal(outcome({ 'if-match': '"zzz"', 'if-none-match': ETAG }), 'failed');
    assert.equal(outcome({ 'if-unmodified-since': BEFORE, 'if-modified-since': AT }), 'failed');
    assert.equal(outcome({ 'if-match': ETAG, 'if-none-match': `W/${ETAG}` }), 'not-modified');
    assert.equal(outcome({ 'if-none-match': '"other"', 'if-modified-since': AT }), 'ok', 'If-None-Match wins over If-Modified-Since');
  });
});

describe('directory redirect Location', () => {
  it('is the path plus /, query kept, with exactly one leading slash', () => {
    assert.equal(directoryLocation('/assets', ''), '/assets/');
    assert.equal(directoryLocation('/assets', 'a=1'), '/assets/?a=1');
    assert.equal(directoryLocation('//evil.example', ''), '/evil.example/');
    assert.equal(directoryLocation('/\\evil.example', ''), '/evil.example/');
    assert.equal(directoryLocation('evil', ''), '/evil/');
  });
});

describe('route methods', () => {
  it('a rule allowing GET allows HEAD; others only what they list', () => {
    assert.deepEqual([...methodSet(['get'])].sort(), ['GET', 'HEAD']);
    assert.deepEqual([...methodSet(['POST', 'put'])].sort(), ['POST', 'PUT']);
    assert.deepEqual([...methodSet(['HEAD'])], ['HEAD']);
  });
});
