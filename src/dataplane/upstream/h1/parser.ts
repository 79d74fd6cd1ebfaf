/**
 * Incremental HTTP/1.1 response parser for upstream connections. Strict on
 * purpose: anything ambiguous about framing (CL with TE, differing lengths,
 * malformed status lines or header names, oversized heads) is an error, and
 * the connection it came from is never reused.
 */

/** Largest response head accepted (status line + headers), as Node's default. */
export const MAX_HEAD = 16 * 1024;

/** A response the upstream framed wrongly; upstreamErrorCode maps the name to a protocol error. */
export class HttpParserError extends Error {
  override readonly name = 'HTTPParserError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface ResponseSink {
  /** The final response head; `headers` is a flat [name, value, ...] list with lowercase names. */
  onHead(status: number, reason: string, headers: string[]): void;
  onBody(chunk: Buffer): void;
  /** The response is complete; `extra`: bytes followed it (the connection must not be reused). */
  onEnd(extra: boolean): void;
}

const enum Mode {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

/**
 * Bytes no head or trailer line may hold: a CR or LF outside CRLF, or any
 * other control character but HTAB (RFC 9110 §5.5: field values are VCHAR,
 * SP, HTAB and obs-text; RFC 9112 §4: so is the reason phrase). Forwarded,
 * a NUL, 0x01 or DEL would reach clients (or node's serializer, which
 * refuses them). One regex test per trailer line; the head is checked by
 * the scan that splits it (`valueEnd`).
 */
const STRAY = /\r(?!\n)|(?<!\r)\n|[\0-\x08\x0b\x0c\x0e-\x1f\x7f]/;
const HEX = /^[0-9a-fA-F]{1,8}$/;
const DIGITS = /^[0-9]{1,15}$/;

/** RFC 9110 token characters. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

/** The header name at text[start, end) in lowercase; fails unless it is a token. */
function tokenLower(text: string, start: number, end: number): string {
  let upper = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || TOKEN[c] === 0) fail('invalid header name');
    if (c >= 65 && c <= 90) upper = true;
  }
  const name = text.slice(start, end);
  return upper ? name.toLowerCase() : name;
}

/** `value` in lowercase, without a copy when it has no uppercase letter (`keep-alive`, `close`). */
function lowered(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 65 && c <= 90) return value.toLowerCase();
  }
  return value;
}

function digit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : -1;
}

/** The status code of "HTTP/1.x NNN[ reason]"; fails on anything else. */
function statusOf(line: string): number {
  const minor = line.charCodeAt(7);
  if (!line.startsWith('HTTP/1.') || (minor !== 48 && minor !== 49) || line.charCodeAt(8) !== 32) fail('invalid status line', 'HPE_INVALID_STATUS');
  const a = digit(line.charCodeAt(9));
  const b = digit(line.charCodeAt(10));
  const c = digit(line.charCodeAt(11));
  if (a < 1 || b < 0 || c < 0 || (line.length > 12 && line.charCodeAt(12) !== 32)) fail('invalid status line', 'HPE_INVALID_STATUS');
  return a * 100 + b * 10 + c;
}

const HTTP_1 = 'HTTP/1.';

/**
 * The first bytes of a head that is not complete yet: fails as soon as they
 * cannot begin "HTTP/1.x NNN", rather than waiting for a head end that an
 * upstream speaking something else may never send.
 */
function statusPrefix(data: Buffer): void {
  const n = Math.min(data.length, 13);
  for (let i = 0; i < n; i++) {
    const c = data[i] as number;
    let ok: boolean;
    if (i < 7) ok = c === HTTP_1.charCodeAt(i);
    else if (i === 7) ok = c === 48 || c === 49;
    else if (i === 8 || i === 12) ok = c === 32 || (i === 12 && c === 13);
    else ok = c >= (i === 9 ? 49 : 48) && c <= 57;
    if (!ok) fail('invalid status line', 'HPE_INVALID_STATUS');
  }
}

/** One Content-Length value (plain decimal), which must equal any seen before (`seen`, -1: none). */
function sameLength(seen: number, value: string): number {
  const v = value.trim();
  if (!DIGITS.test(v)) fail('invalid content-length', 'HPE_INVALID_CONTENT_LENGTH');
  const n = Number(v);
  if (seen !== -1 && n !== seen) fail('differing content-length values', 'HPE_UNEXPECTED_CONTENT_LENGTH');
  return n;
}

function fail(message: string, code = 'HPE_INVALID_HEADER_TOKEN'): never {
  throw new HttpParserError(message, code);
}

/** Fails on an LF in data[from..] that no CR precedes (data[from - 1] was scanned before). */
function bareLf(data: Buffer, from: number): void {
  for (let nl = data.indexOf(10, from); nl !== -1; nl = data.indexOf(10, nl + 1)) {
    if (nl === 0 || data[nl - 1] !== 13) fail('missing expected CR in the response head', 'HPE_CR_EXPECTED');
  }
}

/**
 * Where the field value (or status line) from `from` ends: its CR, or the
 * end of the head. Fails on a control character other than HTAB, or a CR
 * that does not begin a CRLF (a bare LF is a control character here).
 */
function valueEnd(text: string, from: number): number {
  const n = text.length;
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 32 && c !== 127) continue;
    if (c === 13 && text.charCodeAt(i + 1) === 10) return i;
    if (c !== 9) fail('invalid character in the response head');
  }
  return n;
}

/** text[from, to) without leading and trailing OWS (SP, HTAB: RFC 9110 §5.5; obs-text such as 0xA0 stays). */
function trimmedValue(text: string, from: number, to: number): string {
  let s = from;
  let e = to;
  while (s < e && (text.charCodeAt(s) === 32 || text.charCodeAt(s) === 9)) s++;
  while (e > s && (text.charCodeAt(e - 1) === 32 || text.charCodeAt(e - 1) === 9)) e--;
  return text.slice(s, e);
}

/**
 * Response header names upstreams send on nearly every response, by length:
 * matched, they come back as these (internalized) constants, so the name
 * is neither copied nor lowercased, and later set lookups and comparisons
 * need not hash it.
 */
const COMMON_NAMES: string[][] = [];
for (const name of [
  'server', 'date', 'content-type', 'content-length', 'connection', 'keep-alive', 'last-modified', 'etag',
  'accept-ranges', 'transfer-encoding', 'cache-control', 'vary', 'expires', 'location', 'set-cookie', 'content-encoding',
]) {
  (COMMON_NAMES[name.length] ??= []).push(name);
}

/** text[start, end) equals `lower` but for the case of its letters (the text's name characters are tokens). */
function sameName(text: string, start: number, lower: string): boolean {
  for (let j = 0; j < lower.length; j++) {
    // Setting 0x20 lowercases a letter; the other token characters in these names ('-') have it already.
    if ((text.charCodeAt(start + j) | 0x20) !== lower.charCodeAt(j)) return false;
  }
  return true;
}

/** The header name at text[start, end) in lowercase (a common one as its constant). */
function headerName(text: string, start: number, end: number, upper: boolean): string {
  const candidates = COMMON_NAMES[end - start];
  if (candidates !== undefined) for (const known of candidates) if (sameName(text, start, known)) return known;
  const name = text.slice(start, end);
  return upper ? name.toLowerCase() : name;
}

export class ResponseParser {
  private mode = Mode.Done;
  private bodyless = false;
  private head: Buffer | null = null;
  private remaining = 0;
  private line = '';
  /** Whether the connection may carry another request after this response. */
  keepAlive = true;
  /** Seconds from a `Keep-Alive: timeout=N` hint, 0 when none. */
  keepAliveHint = 0;
  /** The chunked body's trailer fields (flat [name, value, ...], lowercase names); null when it had none. */
  trailers: string[] | null = null;
  /** Bytes of trailer lines so far, held to the head's limit. */
  private trailerBytes = 0;

  constructor(private readonly sink: ResponseSink) {}

  /** Prepares for the response to a new request; `bodyless` for HEAD. */
  start(bodyless: boolean): void {
    this.mode = Mode.Head;
    this.bodyless = bodyless;
    this.head = null;
    this.keepAlive = true;
    this.keepAliveHint = 0;
    this.trailers = null;
    this.trailerBytes = 0;
  }

  get done(): boolean {
    return this.mode === Mode.Done;
  }

  /** Whether the body ends at the connection's end (an EOF completes it instead of cutting it). */
  get untilClose(): boolean {
    return this.mode === Mode.UntilClose;
  }

  /** Whether the final response head is not complete yet (a timeout now is a headers timeout). */
  get inHead(): boolean {
    return this.mode === Mode.Head;
  }

  /** Feeds bytes; throws HttpParserError on a framing error. */
  execute(chunk: Buffer): void {
    let buf = chunk;
    let pos = 0;
    while (pos < buf.length) {
      switch (this.mode) {
        case Mode.Head: {
          let data = buf.subarray(pos);
          let from = 0;
          const prev = this.head;
          if (prev !== null) {
            from = Math.max(0, prev.length - 3);
            data = Buffer.concat([prev, data]);
          }
          const end = data.indexOf('\r\n\r\n', from, 'latin1');
          if (end === -1) {
            if (data.length > MAX_HEAD) fail('response headers too large', 'UND_ERR_HEADERS_OVERFLOW');
            statusPrefix(data);
            // A head with bare LF line endings never shows CRLFCRLF: fail now, not at the timeout.
            // Only the new bytes are scanned (a whole head is checked once by parseHead).
            bareLf(data, prev === null ? 0 : prev.length);
            // Copy: a partial head outlives the socket's chunk.
            this.head = prev === null ? Buffer.from(data) : data;
            return;
          }
          if (end > MAX_HEAD) fail('response headers too large', 'UND_ERR_HEADERS_OVERFLOW');
          this.head = null;
          buf = data;
          pos = end + 4;
          this.parseHead(data.toString('latin1', 0, end));
          if ((this.mode as Mode) === Mode.Done) return this.sink.onEnd(pos < buf.length);
          break;
        }
        case Mode.Length: {
          const n = Math.min(this.remaining, buf.length - pos);
          this.remaining -= n;
          const piece = buf.subarray(pos, pos + n);
          pos += n;
          if (this.remaining === 0) this.mode = Mode.Done;
          this.sink.onBody(piece);
          if (this.mode === Mode.Done) return this.sink.onEnd(pos < buf.length);
          break;
        }
        case Mode.ChunkSize:
        case Mode.Trailers:
        case Mode.ChunkDataEnd: {
          const nl = buf.indexOf(10, pos);
          if (nl === -1) {
            this.line += buf.toString('latin1', pos, buf.length);
            if (this.line.length > MAX_HEAD) fail('chunk line too long', 'HPE_INVALID_CHUNK_SIZE');
            return;
          }
          const line = this.line + buf.toString('latin1', pos, nl);
          this.line = '';
          pos = nl + 1;
          if (line.charCodeAt(line.length - 1) !== 13) fail('bare LF in chunked framing', 'HPE_LF_EXPECTED');
          this.chunkLine(line.slice(0, -1));
          if ((this.mode as Mode) === Mode.Done) return this.sink.onEnd(pos < buf.length);
          break;
        }
        case Mode.ChunkData: {
          const n = Math.min(this.remaining, buf.length - pos);
          this.remaining -= n;
          const piece = buf.subarray(pos, pos + n);
          pos += n;
          if (this.remaining === 0) this.mode = Mode.ChunkDataEnd;
          this.sink.onBody(piece);
          break;
        }
        case Mode.UntilClose:
          this.sink.onBody(pos === 0 ? buf : buf.subarray(pos));
          return;
        case Mode.Done:
          // Bytes nobody asked for: the caller decides (never reuse the socket).
          fail('data after the response', 'HPE_INVALID_CONSTANT');
      }
    }
  }

  private chunkLine(line: string): void {
    if (this.mode === Mode.ChunkDataEnd) {
      if (line.length !== 0) fail('chunk data longer than its size', 'HPE_INVALID_CHUNK_SIZE');
      this.mode = Mode.ChunkSize;
      return;
    }
    if (this.mode === Mode.Trailers) {
      if (line.length === 0) this.mode = Mode.Done;
      else this.trailerLine(line);
      return;
    }
    const semi = line.indexOf(';');
    const hex = (semi === -1 ? line : line.slice(0, semi)).trim();
    if (!HEX.test(hex)) fail('invalid chunk size', 'HPE_INVALID_CHUNK_SIZE');
    const size = parseInt(hex, 16);
    if (size === 0) this.mode = Mode.Trailers;
    else {
      this.remaining = size;
      this.mode = Mode.ChunkData;
    }
  }

  /** One trailer field line, held to the same rules as a header line. */
  private trailerLine(line: string): void {
    this.trailerBytes += line.length + 2;
    if (this.trailerBytes > MAX_HEAD) fail('response trailers too large', 'UND_ERR_HEADERS_OVERFLOW');
    if (STRAY.test(line)) fail('invalid character in the response trailers', 'HPE_INVALID_HEADER_TOKEN');
    const colon = line.indexOf(':');
    if (colon <= 0) fail('invalid trailer line');
    (this.trailers ??= []).push(tokenLower(line, 0, colon), line.slice(colon + 1).trim());
  }

  /** Where the name of the header line being scanned ends (its colon), and whether the name has uppercase letters. */
  private colon = 0;
  private upper = false;

  /**
   * Scans the header line at text[start..] in one pass: a token name, a
   * colon, then field-value characters (RFC 9110 §5.5: no control character
   * but HTAB; CR only as part of CRLF). Returns where the line ends (its CR,
   * or the end of the head) and leaves the colon in `colon`.
   */
  private headerLine(text: string, start: number): number {
    const n = text.length;
    let i = start;
    let upper = false;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 58) break;
      if (c > 127 || TOKEN[c] === 0) fail(c === 13 || c === 32 || c === 9 ? 'invalid header line' : 'invalid header name');
      if (c >= 65 && c <= 90) upper = true;
    }
    if (i === start || i === n) fail('invalid header line');
    this.colon = i;
    this.upper = upper;
    return valueEnd(text, i + 1);
  }

  private parseHead(text: string): void {
    let eol = valueEnd(text, 0);
    const statusLine = text.slice(0, eol);
    const status = statusOf(statusLine);
    const http10 = statusLine.charCodeAt(7) === 48;
    const headers: string[] = [];
    let length = -1;
    let chunked = false;
    let te = false;
    let conn: string | null = null;
    while (eol < text.length) {
      const start = eol + 2;
      eol = this.headerLine(text, start);
      const colon = this.colon;
      const lower = headerName(text, start, colon, this.upper);
      const value = trimmedValue(text, colon + 1, eol);
      headers.push(lower, value);
      switch (lower) {
        case 'content-length':
          // A list of equal values is one length (RFC 9110 §8.6); the common single value skips the split.
          if (value.indexOf(',') === -1) length = sameLength(length, value);
          else for (const part of value.split(',')) length = sameLength(length, part);
          break;
        case 'transfer-encoding': {
          te = true;
          const last = value.slice(value.lastIndexOf(',') + 1).trim().toLowerCase();
          chunked = last === 'chunked';
          break;
        }
        case 'connection':
          conn = conn === null ? lowered(value) : `${conn},${lowered(value)}`;
          break;
        case 'keep-alive': {
          const t = /timeout=(\d+)/i.exec(value);
          if (t !== null) this.keepAliveHint = Number(t[1]);
          break;
        }
      }
    }
    if (status < 200) {
      // 100 was never asked for (Expect is answered at the edge) and upgrades are not forwarded.
      if (status === 100 || status === 101) fail(status === 100 ? 'bad response' : 'bad upgrade', 'HPE_INVALID_STATUS');
      return; // 102/103: interim; the final response follows (mode stays Head).
    }
    if (te && length !== -1) fail('content-length with transfer-encoding', 'HPE_UNEXPECTED_CONTENT_LENGTH');
    // `keep-alive` alone, the common answer, needs no list scan.
    if (conn !== null && conn !== 'keep-alive' && /(?:^|,)\s*close\s*(?:,|$)/.test(conn)) this.keepAlive = false;
    else if (http10 && (conn === null || (conn !== 'keep-alive' && !/(?:^|,)\s*keep-alive\s*(?:,|$)/.test(conn)))) this.keepAlive = false;
    let mode: Mode;
    if (this.bodyless || status === 204 || status === 304) mode = Mode.Done;
    else if (chunked) mode = Mode.ChunkSize;
    else if (te) mode = Mode.UntilClose;
    else if (length > 0) mode = Mode.Length;
    else if (length === 0) mode = Mode.Done;
    else mode = Mode.UntilClose;
    if (mode === Mode.UntilClose) this.keepAlive = false;
    this.remaining = length;
    this.mode = mode;
    this.sink.onHead(status, statusLine.length > 13 ? statusLine.slice(13) : '', headers);
  }
}
