import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseParser, type ResponseSink } from '../src/dataplane/upstream/h1/parser';
import { forwardableTrailers } from '../src/dataplane/upstream/trailers';
import { acceptsTrailers } from '../src/dataplane/upstream/hop-headers';

function parser(): { p: ResponseParser; ends: number[] } {
  const ends: number[] = [];
  const sink: ResponseSink = { onHead: () => undefined, onBody: () => undefined, onEnd: () => ends.push(1) };
  return { p: new ResponseParser(sink), ends };
}

const CHUNKED = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n';

describe('native h1 parser: chunked trailer section', () => {
  it('collects trailer fields with lowercase names, split anywhere', () => {
    const wire = Buffer.from(`${CHUNKED}X-Checksum: abc \r\ngrpc-status: 0\r\n\r\n`);
    for (let cut = 1; cut < wire.length; cut += 7) {
      const { p, ends } = parser();
      p.start(false);
      p.execute(wire.subarray(0, cut));
      p.execute(wire.subarray(cut));
      assert.equal(ends.length, 1);
      assert.deepEqual(p.trailers, ['x-checksum', 'abc', 'grpc-status', '0']);
    }
  });

  it('has none (null) without a trailer section, and forgets them at the next response', () => {
    const { p } = parser();
    p.start(false);
    p.execute(Buffer.from(`${CHUNKED}a: 1\r\n\r\n`));
    assert.deepEqual(p.trailers, ['a', '1']);
    p.start(false);
    p.execute(Buffer.from(`${CHUNKED}\r\n`));
    assert.equal(p.trailers, null);
  });

  it('refuses a malformed trailer line and an oversized section', () => {
    for (const bad of [' a: 1', 'no-colon', 'a b: 1', ': empty', 'a: x\0y']) {
      const { p } = parser();
      p.start(false);
      assert.throws(() => p.execute(Buffer.from(`${CHUNKED}${bad}\r\n\r\n`)), /trailer|header/, JSON.stringify(bad));
    }
    const { p } = parser();
    p.start(false);
    const line = `x-big: ${'v'.repeat(4000)}\r\n`;
    assert.throws(() => p.execute(Buffer.from(`${CHUNKED}${line.repeat(5)}\r\n`)), /too large/);
  });
});

describe('trailer fields that may go downstream', () => {
  it('drops framing, routing, hop-by-hop, auth, content and pseudo fields; keeps the rest', () => {
    const out = forwardableTrailers({
      'grpc-status': '0',
      'Grpc-Message': 'ok',
      'x-multi': ['a', 'b'],
      'content-length': '5',
      'transfer-encoding': 'chunked',
      host: 'h',
      connection: 'close',
      te: 'trailers',
      trailer: 'x',
      authorization: 'x',
      'set-cookie': 'x',
      'content-type': 'x',
      'content-encoding': 'x',
      ':status': '200',
    });
    assert.deepEqual(out, ['grpc-status', '0', 'grpc-message', 'ok', 'x-multi', 'a', 'x-multi', 'b']);
  });

  it('drops the fields the Connection header of the response nominated (hop-by-hop for the whole message)', () => {
    const nominated = new Set(['x-nominated', 'x-hop']);
    assert.deepEqual(forwardableTrailers({ 'X-Nominated': '1', 'x-ok': '1', 'x-hop': ['a', 'b'] }, nominated), ['x-ok', '1']);
    assert.equal(forwardableTrailers({ 'x-nominated': '1' }, nominated), null);
    assert.equal(forwardableTrailers(undefined, nominated), null);
  });

  it('is null when there are none or all are forbidden', () => {
    assert.equal(forwardableTrailers({}), null);
    assert.equal(forwardableTrailers(undefined), null);
    assert.equal(forwardableTrailers({ 'content-length': '1' }), null);
  });
});

describe('TE values a proxy passes on', () => {
  it('accepts a list naming trailers, in any case, with or without parameters around it', () => {
    for (const v of ['trailers', 'Trailers', 'gzip, trailers', 'deflate;q=0.5, trailers', ' trailers ,gzip']) assert.equal(acceptsTrailers(v), true, v);
    for (const v of ['', 'gzip', 'trailersx', 'x-trailers', 'chunked;q=1']) assert.equal(acceptsTrailers(v), false, v);
  });
});
