import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileAccessFormat, type AccessRecord } from '../src/shared/access-log-format';

function record(over: Partial<AccessRecord>): AccessRecord {
  return {
    time: Date.UTC(2026, 0, 2, 3, 4, 5),
    remote: '127.0.0.1',
    method: 'GET',
    path: '/p',
    query: '',
    protocol: 'HTTP/1.1',
    status: 200,
    bytes: 5,
    upstream: 'http://127.0.0.1:9000',
    upstreamMs: 1.5,
    totalMs: 2.25,
    requestId: 'abc-1',
    generation: 1,
    server: 'front',
    userAgent: 'curl/8',
    referer: '',
    error: '',
    ...over,
  };
}

describe('access log formats: client-sent values cannot forge fields or lines', () => {
  const combined = compileAccessFormat('combined');

  it('a client X-Request-Id with spaces stays one field of the combined line', () => {
    const line = combined(record({ requestId: 'id 200 - 99' }));
    const fields = line.split(' ');
    assert.equal(fields.at(-1), 'id\\x20200\\x20-\\x2099');
    assert.equal(fields.length, combined(record({})).split(' ').length);
  });

  it('C1 control characters (as the node engine reads raw 0x80-0x9f header bytes) are escaped like C0 ones', () => {
    const line = combined(record({ userAgent: 'a\x85b\x9b[2Jc\x1bd\x7f', requestId: 'r\x85' }));
    assert.match(line, /"a\\x85b\\x9b\[2Jc\\x1bd\\x7f" http/);
    assert.ok(line.endsWith(' r\\x85'), line);
    assert.doesNotMatch(line, /[\x00-\x1f\x7f-\x9f]/);
  });

  it('quotes, backslashes and newlines in quoted fields are escaped, spaces kept', () => {
    const line = combined(record({ userAgent: 'Mozilla "x"\n1.2.3.4 - - [', referer: 'a\\b' }));
    assert.match(line, /"a\\x5cb" "Mozilla \\x22x\\x22\\x0a1\.2\.3\.4 - - \[" /);
    assert.equal(line.split('\n').length, 1);
  });
});
