import type { Dispatcher } from 'undici';

/** How the request body is framed on the wire. */
export const enum Framing {
  None,
  Length,
  Chunked,
}

/** Methods whose bodyless requests still announce `content-length: 0`, as undici does. */
const EXPECTS_BODY = new Set(['POST', 'PUT', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);

export class RequestHeadError extends Error {
  readonly code = 'UND_ERR_INVALID_ARG';
}

function badValue(v: string): boolean {
  return v.indexOf('\r') !== -1 || v.indexOf('\n') !== -1;
}

export interface Head {
  text: string;
  /** The Content-Length the caller announced, -1 when none. */
  length: number;
}

/**
 * The request head as one latin1 string. `bodyLength`: the byte length of a
 * known body, -1 for a streamed body of unknown length (sent chunked unless
 * the headers announce a length), -2 for none.
 */
export function requestHead(opts: Dispatcher.DispatchOptions, authority: string, bodyLength: number): Head {
  const method = opts.method;
  const path = opts.path;
  if (badValue(path) || path.indexOf(' ') !== -1) throw new RequestHeadError('invalid request path');
  let text = `${method} ${path} HTTP/1.1\r\n`;
  let host = false;
  let length = -1;
  const h = opts.headers;
  if (Array.isArray(h)) {
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i] as string;
      const value = h[i + 1] as string;
      if (badValue(value) || badValue(name)) throw new RequestHeadError(`invalid header ${name}`);
      // Names are lowercase already when they come from a listener: compare before lowering.
      if (name === 'host' || (name.length === 4 && name.toLowerCase() === 'host')) host = true;
      else if (name === 'content-length' || (name.length === 14 && name.toLowerCase() === 'content-length')) {
        length = Number(value);
        continue;
      }
      text += `${name}: ${value}\r\n`;
    }
  } else if (h != null) {
    for (const [name, raw] of Object.entries(h as Record<string, string | string[] | undefined>)) {
      if (raw === undefined) continue;
      const lower = name.toLowerCase();
      for (const value of Array.isArray(raw) ? raw : [raw]) {
        if (badValue(value) || badValue(name)) throw new RequestHeadError(`invalid header ${name}`);
        if (lower === 'host') host = true;
        else if (lower === 'content-length') {
          length = Number(value);
          continue;
        }
        text += `${name}: ${value}\r\n`;
      }
    }
  }
  if (!host) text += `host: ${authority}\r\n`;
  if (bodyLength >= 0) {
    if (length !== -1 && length !== bodyLength) {
      throw Object.assign(new Error('request body length does not match content-length'), { code: 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' });
    }
    if (bodyLength > 0 || EXPECTS_BODY.has(method)) text += `content-length: ${bodyLength}\r\n`;
  } else if (bodyLength === -1) {
    text += length !== -1 ? `content-length: ${length}\r\n` : 'transfer-encoding: chunked\r\n';
  } else if (length !== -1) {
    text += `content-length: ${length}\r\n`;
  } else if (EXPECTS_BODY.has(method)) {
    text += 'content-length: 0\r\n';
  }
  return { text: `${text}connection: keep-alive\r\n\r\n`, length };
}
