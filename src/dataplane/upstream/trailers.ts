import { HOP_BY_HOP } from './hop-headers';

/**
 * Fields a trailer section must not carry (RFC 9110 §6.5.1): framing,
 * routing, request modifiers, authentication, response control data and
 * what is needed to process the content. Forwarded as trailers they would
 * be ignored at best and trusted after the fact at worst: they are dropped,
 * as are hop-by-hop fields and HTTP/2 pseudo-fields.
 */
const FORBIDDEN = new Set([
  ...HOP_BY_HOP,
  'content-length',
  'host',
  'cache-control',
  'max-forwards',
  'pragma',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'authorization',
  'www-authenticate',
  'set-cookie',
  'cookie',
  'age',
  'expires',
  'date',
  'location',
  'retry-after',
  'vary',
  'warning',
  'content-encoding',
  'content-type',
  'content-range',
]);

type TrailerObject = Record<string, string | string[] | undefined>;

/**
 * The trailer fields of an upstream response that may go downstream, as a
 * flat [name, value, ...] list with lowercase names; null when none (no
 * allocation then: an empty object is only walked). `nominated`: the names
 * the response's Connection header listed, hop-by-hop for the whole
 * message (RFC 9110 §7.6.1), trailers included.
 */
export function forwardableTrailers(trailers: TrailerObject | null | undefined, nominated: ReadonlySet<string> | null = null): string[] | null {
  if (trailers == null) return null;
  let out: string[] | null = null;
  for (const key in trailers) {
    const value = trailers[key];
    if (value === undefined) continue;
    const name = key.toLowerCase();
    if (name.charCodeAt(0) === 58 /* ':' */ || FORBIDDEN.has(name) || (nominated !== null && nominated.has(name))) continue;
    out ??= [];
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  return out;
}

/** The flat list as node's `addTrailers` takes it (repeated names joined, as node would for a list). */
export function trailerObject(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string;
    const value = flat[i + 1] as string;
    const prev = out[name];
    out[name] = prev === undefined ? value : `${prev}, ${value}`;
  }
  return out;
}
