import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mockSchema } from '../src/dataplane/filters/mock/schema';
import { headerOpsSchema } from '../src/dataplane/filters/header-ops';

function issues(schema: { check(v: unknown, p: (string | number)[], i: { path: (string | number)[]; message: string }[]): unknown }, raw: unknown): string[] {
  const found: { path: (string | number)[]; message: string }[] = [];
  schema.check(raw, [], found);
  return found.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('configured headers', () => {
  it('refuses control characters, bad names and framing headers, naming each', () => {
    const found = issues(headerOpsSchema, { set: { 'X-A': 'ok\r\nX-Injected: 1', 'Bad Name': 'v', 'Content-Length': '5' }, add: { 'Transfer-Encoding': 'chunked' } });
    assert.deepEqual(found.sort(), [
      'add.Transfer-Encoding: Transfer-Encoding is set by the gateway itself and cannot be configured here',
      'set.Bad Name: "Bad Name" is not a valid header name',
      'set.Content-Length: Content-Length is set by the gateway itself and cannot be configured here',
      'set.X-A: control characters (CR, LF, NUL, ...) are not allowed in a header value',
    ]);
    assert.deepEqual(issues(headerOpsSchema, { set: { 'X-Version': '2', 'X-Tab': 'a\tb' } }), []);
    assert.match(issues(mockSchema, { name: 'm', kind: 'Mock', rules: [{ headers: { 'content-length': '1' } }] }).join(), /rules\.0\.headers\.content-length: .*set by the gateway/);
  });
});
