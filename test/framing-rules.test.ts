import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHUNKED, headerLimitError, requestBodyLength, requestHeaderError } from '../src/dataplane/listener/framing';
import { HeaderList } from '../src/dataplane/headers';

const h = (...items: string[]): HeaderList => new HeaderList(['host', 'x', ...items]);

/** The pure rules, for what the engine hides from the raw-socket suite (it drops many cases itself). */
describe('framing rules on the header list', () => {
  it('takes exactly one chunked, in any case, with OWS around it', () => {
    for (const v of ['chunked', 'Chunked', ' chunked ', '\tCHUNKED']) assert.equal(requestBodyLength(h('transfer-encoding', v)), CHUNKED, v);
  });
  it('refuses every other Transfer-Encoding', () => {
    for (const v of ['gzip, chunked', 'chunked, chunked', 'chunked,', 'identity', 'gzip', '', 'chunked\v', 'x chunked']) {
      assert.equal(typeof requestBodyLength(h('transfer-encoding', v)), 'string', JSON.stringify(v));
    }
    assert.equal(typeof requestBodyLength(h('transfer-encoding', 'chunked', 'transfer-encoding', 'chunked')), 'string');
  });
  it('takes Content-Length only as one plain decimal number below 2^53', () => {
    assert.equal(requestBodyLength(h('content-length', ' 005 ')), 5);
    assert.equal(requestBodyLength(h('content-length', '999999999999999')), 999999999999999);
    for (const v of ['+5', '-1', '0x5', '5 5', '1e3', '5,5', '', 'abc', '9007199254740993', '5\v']) {
      assert.equal(typeof requestBodyLength(h('content-length', v)), 'string', JSON.stringify(v));
    }
    assert.equal(typeof requestBodyLength(h('content-length', '5', 'transfer-encoding', 'chunked')), 'string');
  });
  it('refuses control characters in values but allows HTAB and obs-text', () => {
    for (const c of ['\x00', '\x01', '\r', '\n', '\x1b', '\x7f']) assert.match(requestHeaderError(h('x-a', `a${c}b`)) ?? '', /control character/);
    assert.equal(requestHeaderError(h('x-a', 'a\tb')), null);
    assert.equal(requestHeaderError(h('x-a', 'caf\u00e9')), null);
  });
  it('refuses field names that are not tokens', () => {
    for (const n of ['', 'x a', 'x(a)', 'x:a', 'x\u00e9', 'x"']) assert.match(requestHeaderError(h(n, 'v')) ?? '', /invalid header name/, n);
    assert.equal(requestHeaderError(h("x-a_b!#$%&'*+.^`|~", 'v')), null);
  });
  it('wants exactly one well-formed Host', () => {
    assert.equal(requestHeaderError(new HeaderList([])), 'no Host');
    assert.equal(requestHeaderError(h('host', 'x')), 'more than one Host');
    for (const v of ['a b', 'user@x', 'x/y', 'x:80:80', 'x?y']) assert.match(requestHeaderError(new HeaderList(['host', v])) ?? '', /invalid Host/, v);
    for (const v of ['x', 'x.example:8080', '[::1]:80', '127.0.0.1', '']) assert.equal(requestHeaderError(new HeaderList(['host', v])), null, v);
  });
  it('counts header fields and their bytes against the limits', () => {
    const limits = { maxHeaderCount: 3, maxHeaderBytes: 30 };
    assert.equal(headerLimitError(h('a', '1', 'b', '2'), limits), null);
    assert.match(headerLimitError(h('a', '1', 'b', '2', 'c', '3'), limits) ?? '', /4 header fields, limit 3/);
    assert.match(headerLimitError(h('a', 'x'.repeat(30)), limits) ?? '', /bytes of header fields, limit 30/);
  });
});
