/**
 * Whether `text.slice(0, end)` is the start of a JSON document: every token
 * complete and where the grammar allows it. The depth scan of exact-json.ts
 * counts brackets in any text; this tells a deep JSON body (refused) from a
 * text that is not JSON at all (an HTML page with many brackets, left as it is).
 * Iterative, so any depth costs no stack.
 */

const enum Expect { Value, ValueOrClose, Key, KeyOrClose, Colon, CommaOrClose }

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
const LITERAL = /true|false|null/y;

function tokenEnd(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  return re.test(text) ? re.lastIndex : -1;
}

export function isJsonPrefix(text: string, end: number): boolean {
  const closers: number[] = []; // 93 ] or 125 } per open container
  let expect = Expect.Value;
  let i = 0;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    if ((c === 93 || c === 125) && (expect === Expect.ValueOrClose || expect === Expect.KeyOrClose || expect === Expect.CommaOrClose)) {
      if (closers.pop() !== c) return false;
      expect = Expect.CommaOrClose;
      i++;
    } else if (expect === Expect.CommaOrClose) {
      if (c !== 44 /* , */ || closers.length === 0) return false;
      expect = closers[closers.length - 1] === 93 ? Expect.Value : Expect.Key;
      i++;
    } else if (expect === Expect.Colon) {
      if (c !== 58 /* : */) return false;
      expect = Expect.Value;
      i++;
    } else if (expect === Expect.Key || expect === Expect.KeyOrClose) {
      i = c === 34 ? tokenEnd(STRING, text, i) : -1;
      if (i < 0 || i > end) return false;
      expect = Expect.Colon;
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      closers.push(c + 2);
      expect = c === 91 ? Expect.ValueOrClose : Expect.KeyOrClose;
      i++;
    } else {
      i = tokenEnd(c === 34 ? STRING : c === 45 || (c >= 48 && c <= 57) ? NUMBER : LITERAL, text, i);
      if (i < 0 || i > end) return false;
      expect = Expect.CommaOrClose;
    }
  }
  return true;
}
