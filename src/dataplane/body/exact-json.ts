/**
 * JSON parse/stringify that keeps number tokens a JS number would change
 * (integers past 2^53, `1.0`, `1e5`, `-0`, more than 17 significant digits)
 * exactly as they were written. Such tokens are swapped for placeholder
 * strings before JSON.parse, and the placeholders are swapped back for the
 * original text after JSON.stringify. A body without such numbers costs one
 * scan more than a plain JSON.parse.
 */

import { isJsonPrefix } from './json-prefix';

/**
 * The deepest nesting of arrays and objects a body may have. JSON.stringify
 * recurses once per level, so a deeper document (a few bytes per level)
 * could exhaust the stack; the scan refuses it before JSON.parse runs.
 */
export const MAX_JSON_DEPTH = 512;

/** Thrown by parseExact for a document nested deeper than MAX_JSON_DEPTH. */
export class JsonTooDeep extends Error {
  constructor() {
    super(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
}

/** A number token as JSON allows it; the scanner's token may be looser and JSON.parse must still refuse it. */
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Whether a token would come out of Number → JSON.stringify unchanged. */
function roundTrips(text: string, start: number, end: number): boolean {
  // The common case without allocating: a plain integer of at most 15 digits (not -0).
  let i = start;
  if (text.charCodeAt(i) === 45 /* - */) i++;
  if (end - i <= 15) {
    let plain = true;
    for (let j = i; j < end; j++) {
      const c = text.charCodeAt(j);
      if (c < 48 || c > 57) {
        plain = false;
        break;
      }
    }
    if (plain && !(i > start && end - i === 1 && text.charCodeAt(i) === 48)) return true;
  }
  const token = text.slice(start, end);
  return String(Number(token)) === token;
}

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 /* - */ || c === 43 /* + */ || c === 46 /* . */ || c === 101 /* e */ || c === 69 /* E */;
}

/**
 * Start and end offsets of the number tokens outside strings that do not
 * round-trip; [] when none. Throws JsonTooDeep past MAX_JSON_DEPTH open
 * brackets of a text that is JSON up to there, SyntaxError for any other
 * text (a malformed text may be miscounted; JSON.parse refuses it anyway).
 */
function fragileNumbers(text: string): number[] {
  const spans: number[] = [];
  const n = text.length;
  let depth = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 91 /* [ */ || c === 123 /* { */) {
      // Only JSON is too deep: brackets in any other text (HTML, JS) make it 'not JSON'.
      if (++depth > MAX_JSON_DEPTH) throw isJsonPrefix(text, i + 1) ? new JsonTooDeep() : new SyntaxError('not JSON');
      i++;
    } else if (c === 93 /* ] */ || c === 125 /* } */) {
      depth--;
      i++;
    } else if (c === 34 /* " */) {
      // Jump to the closing quote: one not preceded by an odd run of backslashes.
      let q = i;
      for (;;) {
        q = text.indexOf('"', q + 1);
        if (q < 0) throw new SyntaxError('unterminated string'); // JSON.parse would refuse it too
        let b = q - 1;
        while (text.charCodeAt(b) === 92 /* \ */) b--;
        if ((q - 1 - b) % 2 === 0) break;
      }
      i = q + 1;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      const start = i;
      while (i < n && isNumberChar(text.charCodeAt(i))) i++;
      if (!roundTrips(text, start, i)) spans.push(start, i);
    } else i++;
  }
  return spans;
}

function followedByColon(text: string, at: number): boolean {
  let i = at;
  for (let c = text.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(++i));
  return text.charCodeAt(i) === 58 /* : */;
}

/** A marker absent from `text` and from `avoid` (the configured values that end up in the output). */
function pickMarker(text: string, avoid: string): string {
  let marker = '~ngate-n';
  while (text.includes(marker) || avoid.includes(marker)) marker += '~';
  return marker;
}

export interface ExactJson {
  doc: unknown;
  /** JSON text of `doc` with the kept number tokens put back. */
  stringify(doc: unknown): string;
}

const plain: (doc: unknown) => string = (doc) => JSON.stringify(doc);

/**
 * Parses `text` (throws as JSON.parse does, and JsonTooDeep for a document
 * nested deeper than MAX_JSON_DEPTH, before parsing it). `avoid`: text the edited
 * document may gain besides the body (the JSON of configured values), so a
 * placeholder never matches a configured string.
 */
export function parseExact(text: string, avoid: string): ExactJson {
  const spans = fragileNumbers(text);
  if (spans.length === 0) return { doc: JSON.parse(text), stringify: plain };
  const tokens: string[] = [];
  let marked = '';
  let at = 0;
  const marker = pickMarker(text, avoid);
  for (let k = 0; k < spans.length; k += 2) {
    const start = spans[k] as number;
    const end = spans[k + 1] as number;
    const token = text.slice(start, end);
    // A malformed token, or one in a key's place, must not turn into a valid placeholder string.
    if (!NUMBER.test(token) || followedByColon(text, end)) throw new SyntaxError(`invalid number ${token}`);
    marked += `${text.slice(at, start)}"${marker}${tokens.length}"`;
    tokens.push(token);
    at = end;
  }
  marked += text.slice(at);
  const doc: unknown = JSON.parse(marked);
  const back = new RegExp(`"${marker}(\\d+)"`, 'g');
  return {
    doc,
    stringify: (d) => JSON.stringify(d).replace(back, (_m, k: string) => tokens[Number(k)] as string),
  };
}
