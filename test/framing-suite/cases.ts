/**
 * Malformed and ambiguous requests, one per row. `target` is the case's own
 * path (so concurrent cases can be told apart upstream); anything a
 * smuggling attempt hides inside a request uses the path /smuggled, which
 * the upstream must never see.
 *
 * Outcomes:
 * - refused: ngate answers `status` and closes; the upstream sees nothing.
 * - dropped: the engine answers nothing (it closes or holds the connection
 *   until its own timeout); the upstream sees nothing.
 * - forwarded: the client gets 200 and the upstream exactly one complete
 *   request with `body` (and `headers`: value, or null for "absent").
 * - cut: the engine finds the body malformed after the head went upstream:
 *   the client gets no answer, the upstream an incomplete request, aborted.
 * - unanswered: the engine closes without an answer while the case's own
 *   request may already be upstream (a race); nothing else ever is.
 * - aborted: the client gives up mid-body; the upstream may have seen the
 *   head, but never a complete request, and its connection is closed.
 */
export type Expect =
  | { kind: 'refused'; status: number }
  | { kind: 'cut' }
  | { kind: 'unanswered' }
  | { kind: 'dropped' }
  | { kind: 'forwarded'; body: string; headers?: Record<string, string | null> }
  | { kind: 'aborted' };

export interface FramingCase {
  /** Family of the case, the row of the comparison table in docs/framing.md. */
  group: string;
  name: string;
  payload: (target: string) => string;
  expect: Expect;
}

/** Limits of the suite's listener (small, so the limit cases stay small). */
export const SUITE_LIMITS = { clientMaxBodySize: 1000, maxHeaderCount: 30, maxHeaderBytes: 2048 };

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
const refused = (status = 400): Expect => ({ kind: 'refused', status });
const dropped: Expect = { kind: 'dropped' };
const fwd = (body: string, headers?: Record<string, string | null>): Expect => ({ kind: 'forwarded', body, ...(headers === undefined ? {} : { headers }) });
const aborted: Expect = { kind: 'aborted' };
const cut: Expect = { kind: 'cut' };

/** A request with the given header lines (each without CRLF) and raw body. */
function req(method: string, headers: string[], body = '', version = 'HTTP/1.1'): (t: string) => string {
  return (t) => `${method} ${t} ${version}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`;
}
const post = (headers: string[], body = ''): ((t: string) => string) => req('POST', ['Host: x', ...headers], body);
const chunked = (body: string): ((t: string) => string) => post(['Transfer-Encoding: chunked'], body);
const many = (n: number, len = 4): string[] => Array.from({ length: n }, (_, i) => `X-H${i}: ${'v'.repeat(len)}`);

export const CASES: FramingCase[] = [
  // Controls: well-formed requests must pass, exactly once.
  { group: 'control', name: 'plain GET', payload: req('GET', ['Host: x']), expect: fwd('') },
  { group: 'control', name: 'POST with Content-Length', payload: post(['Content-Length: 5'], 'hello'), expect: fwd('hello') },
  { group: 'control', name: 'chunked POST', payload: chunked('3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n'), expect: fwd('abcde') },
  { group: 'control', name: 'Content-Length: 0', payload: post(['Content-Length: 0']), expect: fwd('') },
  { group: 'control', name: 'Content-Length with leading zeros', payload: post(['Content-Length: 005'], 'hello'), expect: fwd('hello') },

  // Content-Length that is not one plain decimal number.
  { group: 'content-length', name: 'signed +5', payload: post(['Content-Length: +5'], 'hello'), expect: dropped },
  { group: 'content-length', name: 'negative -1', payload: post(['Content-Length: -1'], 'hello'), expect: dropped },
  { group: 'content-length', name: 'hex 0x5', payload: post(['Content-Length: 0x5'], 'hello'), expect: dropped },
  { group: 'content-length', name: 'two numbers "5 5"', payload: post(['Content-Length: 5 5'], 'hello'), expect: dropped },
  { group: 'content-length', name: 'exponent 1e3', payload: post(['Content-Length: 1e3'], 'hello'), expect: dropped },
  { group: 'content-length', name: 'list "5, 5"', payload: post(['Content-Length: 5, 5'], 'hello'), expect: dropped },
  { group: 'content-length', name: 'list "5,6"', payload: post(['Content-Length: 5,6'], 'hello!'), expect: dropped },
  { group: 'content-length', name: 'letters', payload: post(['Content-Length: abc'], 'hello'), expect: dropped },
  { group: 'content-length', name: 'empty value', payload: post(['Content-Length: '], 'hello'), expect: refused() },
  { group: 'content-length', name: 'beyond 2^53', payload: post(['Content-Length: 9007199254740993'], 'hello'), expect: dropped },
  { group: 'content-length', name: '20 digits (overflows 64 bits)', payload: post(['Content-Length: 18446744073709551621'], 'hello'), expect: dropped },
  { group: 'content-length', name: 'surrounding spaces are OWS', payload: post(['Content-Length:   5   '], 'hello'), expect: fwd('hello') },
  { group: 'content-length', name: 'two equal values', payload: post(['Content-Length: 5', 'Content-Length: 5'], 'hello'), expect: refused() },
  { group: 'content-length', name: 'two different values', payload: post(['Content-Length: 5', 'Content-Length: 50'], 'hello'), expect: refused() },
  { group: 'content-length', name: 'two values, smuggled request as body', payload: post(['Content-Length: 0', `Content-Length: ${SMUGGLED.length}`], SMUGGLED), expect: dropped },

  // Transfer-Encoding other than exactly one `chunked`.
  { group: 'transfer-encoding', name: 'Chunked (case-insensitive)', payload: post(['Transfer-Encoding: Chunked'], '3\r\nabc\r\n0\r\n\r\n'), expect: fwd('abc') },
  { group: 'transfer-encoding', name: 'chunked with trailing space', payload: post(['Transfer-Encoding: chunked '], '3\r\nabc\r\n0\r\n\r\n'), expect: fwd('abc') },
  { group: 'transfer-encoding', name: 'chunked after a tab (OWS)', payload: post(['Transfer-Encoding:\tchunked'], '3\r\nabc\r\n0\r\n\r\n'), expect: fwd('abc') },
  { group: 'transfer-encoding', name: 'gzip, chunked', payload: post(['Transfer-Encoding: gzip, chunked'], '3\r\nabc\r\n0\r\n\r\n'), expect: refused() },
  { group: 'transfer-encoding', name: 'chunked, chunked', payload: post(['Transfer-Encoding: chunked, chunked'], '3\r\nabc\r\n0\r\n\r\n'), expect: refused() },
  { group: 'transfer-encoding', name: 'chunked, gzip', payload: post(['Transfer-Encoding: chunked, gzip'], '3\r\nabc\r\n0\r\n\r\n'), expect: refused() },
  { group: 'transfer-encoding', name: 'identity', payload: post(['Transfer-Encoding: identity'], 'abc'), expect: refused() },
  { group: 'transfer-encoding', name: 'gzip alone', payload: post(['Transfer-Encoding: gzip'], 'abc'), expect: refused() },
  { group: 'transfer-encoding', name: 'xchunked', payload: post(['Transfer-Encoding: xchunked'], '3\r\nabc\r\n0\r\n\r\n'), expect: refused() },
  { group: 'transfer-encoding', name: 'empty value', payload: post(['Transfer-Encoding: '], '3\r\nabc\r\n0\r\n\r\n'), expect: refused() },
  { group: 'transfer-encoding', name: 'two chunked fields', payload: post(['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], '3\r\nabc\r\n0\r\n\r\n'), expect: refused() },
  { group: 'transfer-encoding', name: 'vertical tab after chunked', payload: post(['Transfer-Encoding: chunked\x0b'], '3\r\nabc\r\n0\r\n\r\n'), expect: dropped },
  { group: 'transfer-encoding', name: 'on HTTP/1.0', payload: req('POST', ['Host: x', 'Transfer-Encoding: chunked'], '3\r\nabc\r\n0\r\n\r\n', 'HTTP/1.0'), expect: dropped },
  { group: 'transfer-encoding', name: 'space before the colon', payload: post(['Transfer-Encoding : chunked', 'Content-Length: 5'], '0\r\n\r\n'), expect: dropped },
  { group: 'transfer-encoding', name: 'Transfer_Encoding (underscore in a name)', payload: post(['Transfer_Encoding: chunked', 'Content-Length: 5'], 'hello'), expect: dropped },

  // Content-Length together with Transfer-Encoding (CL.TE / TE.CL smuggling).
  { group: 'cl+te', name: 'CL then TE', payload: post(['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), expect: dropped },
  { group: 'cl+te', name: 'TE then CL', payload: post(['Transfer-Encoding: chunked', 'Content-Length: 5'], '0\r\n\r\n'), expect: dropped },
  { group: 'cl+te', name: 'CL.TE with smuggled request', payload: post([`Content-Length: ${5 + SMUGGLED.length}`, 'Transfer-Encoding: chunked'], `0\r\n\r\n${SMUGGLED}`), expect: dropped },
  { group: 'cl+te', name: 'TE.CL with smuggled request', payload: post(['Content-Length: 4', 'Transfer-Encoding: chunked'], `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`), expect: dropped },
  { group: 'cl+te', name: 'CL with TE gzip, chunked', payload: post(['Content-Length: 5', 'Transfer-Encoding: gzip, chunked'], '0\r\n\r\n'), expect: dropped },

  // Chunked body syntax.
  { group: 'chunked body', name: 'chunk size not hex', payload: chunked('zz\r\nabc\r\n0\r\n\r\n'), expect: dropped },
  { group: 'chunked body', name: 'negative chunk size', payload: chunked('-3\r\nabc\r\n0\r\n\r\n'), expect: dropped },
  { group: 'chunked body', name: '0x prefix on chunk size', payload: chunked('0x3\r\nabc\r\n0\r\n\r\n'), expect: dropped },
  { group: 'chunked body', name: 'chunk size overflowing 64 bits', payload: chunked('10000000000000003\r\nabc\r\n0\r\n\r\n'), expect: dropped },
  { group: 'chunked body', name: 'chunk extension', payload: chunked('3;ext=1\r\nabc\r\n0\r\n\r\n'), expect: dropped },
  { group: 'chunked body', name: 'data longer than the chunk size', payload: chunked('3\r\nabcdef\r\n0\r\n\r\n'), expect: cut },
  { group: 'chunked body', name: 'missing CRLF after chunk data (engine skips 2 bytes)', payload: chunked('3\r\nabc0\r\n\r\n'), expect: fwd('abc') },
  { group: 'chunked body', name: 'junk instead of CRLF after chunk data hides a request (arrives as body bytes)', payload: chunked(`3\r\nabcXX${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`), expect: fwd(`abc${SMUGGLED}`) },
  { group: 'chunked body', name: 'missing final CRLF (engine ends the body at the 0 chunk)', payload: chunked('3\r\nabc\r\n0\r\n'), expect: fwd('abc') },
  { group: 'chunked body', name: 'client gone mid-chunk', payload: chunked('a\r\nabc'), expect: aborted },
  { group: 'chunked body', name: 'client gone between chunks', payload: chunked('3\r\nabc\r\n'), expect: aborted },
  { group: 'chunked body', name: 'client gone mid Content-Length body', payload: post(['Content-Length: 10'], 'abc'), expect: aborted },
  { group: 'chunked body', name: 'bare LF in chunk framing (engine accepts)', payload: chunked('3\nabc\n0\n\n'), expect: fwd('abc') },

  // Trailers: the engine reads and discards them; none reaches the upstream.
  { group: 'trailers', name: 'trailer setting Content-Length', payload: chunked('3\r\nabc\r\n0\r\nContent-Length: 50\r\n\r\n'), expect: fwd('abc', { 'content-length': '3' }) },
  { group: 'trailers', name: 'trailer setting Transfer-Encoding', payload: chunked('3\r\nabc\r\n0\r\nTransfer-Encoding: gzip\r\n\r\n'), expect: fwd('abc') },
  { group: 'trailers', name: 'trailer setting Host', payload: chunked('3\r\nabc\r\n0\r\nHost: evil\r\n\r\n'), expect: fwd('abc', { host: 'x' }) },

  // Field syntax.
  { group: 'field syntax', name: 'obs-fold continuation line', payload: post(['X-A: a', ' b', 'Content-Length: 5'], 'hello'), expect: dropped },
  { group: 'field syntax', name: 'obs-fold on Transfer-Encoding', payload: post(['Transfer-Encoding:', ' chunked'], '0\r\n\r\n'), expect: dropped },
  { group: 'field syntax', name: 'space inside a name', payload: post(['X A: b', 'Content-Length: 5'], 'hello'), expect: dropped },
  { group: 'field syntax', name: 'space before the colon', payload: post(['Content-Length : 5'], 'hello'), expect: dropped },
  { group: 'field syntax', name: 'line without a colon', payload: post(['NoColonHere', 'Content-Length: 5'], 'hello'), expect: dropped },
  { group: 'field syntax', name: 'name with a non-token character', payload: post(['X(A): b', 'Content-Length: 5'], 'hello'), expect: dropped },
  { group: 'field syntax', name: 'name with a non-ASCII byte', payload: post(['X-\xe9: b', 'Content-Length: 5'], 'hello'), expect: dropped },
  // The engine ends the header block at a line with an empty name: later fields are not seen.
  { group: 'field syntax', name: 'empty name (engine ends the fields there)', payload: post([': b', 'X-After: 1']), expect: fwd('', { 'x-after': null }) },
  { group: 'field syntax', name: 'empty name hiding Content-Length of a smuggled request', payload: post([': b', `Content-Length: ${SMUGGLED.length}`], SMUGGLED), expect: { kind: 'unanswered' } },
  { group: 'field syntax', name: 'NUL in a value', payload: post(['X-A: a\x00b', 'Content-Length: 5'], 'hello'), expect: dropped },
  { group: 'field syntax', name: 'SOH control in a value', payload: post(['X-A: a\x01b', 'Content-Length: 5'], 'hello'), expect: dropped },
  { group: 'field syntax', name: 'ESC control in a value', payload: post(['X-A: a\x1bb', 'Content-Length: 5'], 'hello'), expect: dropped },
  { group: 'field syntax', name: 'DEL in a value', payload: post(['X-A: a\x7fb', 'Content-Length: 5'], 'hello'), expect: refused() },
  { group: 'field syntax', name: 'bare CR in a value', payload: post(['X-A: a\rb', 'Content-Length: 5'], 'hello'), expect: dropped },
  { group: 'field syntax', name: 'HTAB inside a value is allowed', payload: post(['X-A: a\tb', 'Content-Length: 5'], 'hello'), expect: fwd('hello', { 'x-a': 'a\tb' }) },
  { group: 'field syntax', name: 'bare LF line endings', payload: (t) => `POST ${t} HTTP/1.1\nHost: x\nContent-Length: 5\n\nhello`, expect: dropped },
  { group: 'field syntax', name: 'bare LF ending one field', payload: (t) => `POST ${t} HTTP/1.1\r\nHost: x\nContent-Length: 5\r\n\r\nhello`, expect: dropped },

  // Host and the request target.
  { group: 'host', name: 'missing Host', payload: req('GET', []), expect: dropped },
  { group: 'host', name: 'two Host fields', payload: req('GET', ['Host: x', 'Host: y']), expect: refused() },
  { group: 'host', name: 'two equal Host fields', payload: req('GET', ['Host: x', 'Host: x']), expect: refused() },
  { group: 'host', name: 'Host with a space', payload: req('GET', ['Host: a b']), expect: refused() },
  { group: 'host', name: 'Host with userinfo', payload: req('GET', ['Host: user@x']), expect: refused() },
  { group: 'host', name: 'Host with a path', payload: req('GET', ['Host: x/y']), expect: refused() },
  { group: 'host', name: 'absolute-form target', payload: () => 'GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n', expect: dropped },
  { group: 'host', name: 'absolute-form target with another Host', payload: () => 'GET http://evil/a HTTP/1.1\r\nHost: x\r\n\r\n', expect: dropped },
  { group: 'host', name: 'absolute-form target without Host', payload: () => 'GET http://x/a HTTP/1.1\r\n\r\n', expect: dropped },

  // Request line.
  { group: 'request line', name: 'HTTP/1.0', payload: req('GET', ['Host: x'], '', 'HTTP/1.0'), expect: dropped },
  { group: 'request line', name: 'HTTP/2.0 version', payload: req('GET', ['Host: x'], '', 'HTTP/2.0'), expect: dropped },
  { group: 'request line', name: 'lower-case version', payload: req('GET', ['Host: x'], '', 'http/1.1'), expect: dropped },
  { group: 'request line', name: 'unknown method', payload: req('PURGE', ['Host: x']), expect: dropped },
  { group: 'request line', name: 'space inside the target', payload: (t) => `GET ${t}/a b HTTP/1.1\r\nHost: x\r\n\r\n`, expect: dropped },
  { group: 'request line', name: 'NUL inside the target', payload: (t) => `GET ${t}\x00a HTTP/1.1\r\nHost: x\r\n\r\n`, expect: dropped },
  { group: 'request line', name: 'request line of 64 KiB in one read (engine accepts)', payload: (t) => `GET ${t}/${'a'.repeat(65536)} HTTP/1.1\r\nHost: x\r\n\r\n`, expect: fwd('') },
  { group: 'request line', name: 'bare LF after the request line', payload: (t) => `GET ${t} HTTP/1.1\nHost: x\r\n\r\n`, expect: dropped },
  { group: 'request line', name: 'CONNECT', payload: () => 'CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n', expect: dropped },

  // Limits of the listener.
  { group: 'limits', name: 'Content-Length over clientMaxBodySize', payload: post(['Content-Length: 1001'], 'abc'), expect: refused(413) },
  { group: 'limits', name: 'chunked body over clientMaxBodySize', payload: chunked(`3e9\r\n${'a'.repeat(1001)}\r\n0\r\n\r\n`), expect: refused(413) },
  { group: 'limits', name: 'header count over maxHeaderCount', payload: post([...many(30), 'Content-Length: 0']), expect: refused(431) },
  { group: 'limits', name: 'header bytes over maxHeaderBytes', payload: post(['X-Big: ' + 'b'.repeat(2100), 'Content-Length: 0']), expect: refused(431) },
  { group: 'limits', name: '49 fields (over the engine cap of 48)', payload: post([...many(48), 'Content-Length: 0']), expect: dropped },
  { group: 'limits', name: 'fields at the configured limit pass', payload: post([...many(28), 'Content-Length: 0']), expect: fwd('') },

  // Requests pipelined behind a refused one.
  { group: 'pipelining', name: 'request pipelined behind duplicate Content-Length', payload: (t) => post(['Content-Length: 3', 'Content-Length: 10'], `abc${SMUGGLED}`)(t), expect: dropped },
  { group: 'pipelining', name: 'request pipelined behind a bad Transfer-Encoding', payload: (t) => post(['Transfer-Encoding: identity'], SMUGGLED)(t), expect: dropped },
  { group: 'pipelining', name: 'request pipelined behind a control character', payload: (t) => post(['X-A: \x01', 'Content-Length: 0'], SMUGGLED)(t), expect: dropped },
];
