/**
 * Strict UTF-8 decoding of request bodies and files: invalid bytes are refused
 * with their offset instead of silently becoming U+FFFD (a mangled secret or
 * name would be applied without anyone noticing).
 */
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class InvalidUtf8 extends Error {
  constructor(readonly offset: number) {
    super(`not valid UTF-8 (byte offset ${offset})`);
  }
}

/** The text of `bytes`; throws InvalidUtf8 at the first byte that is not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    throw new InvalidUtf8(firstInvalid(bytes));
  }
}

/** Offset of the first byte that starts no valid sequence (RFC 3629: no overlongs, surrogates or values over U+10FFFF). */
function firstInvalid(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (d === undefined || d < min || d > max) return i;
    }
    i += n + 1;
  }
  return b.length;
}
