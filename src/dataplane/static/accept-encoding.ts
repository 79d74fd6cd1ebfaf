/**
 * Accept-Encoding (RFC 9110 §12.5.3) reduced to what a precompressed static
 * site can serve: br and gzip, in the order to try them. Codings are
 * case-insensitive, `q=0` means "not acceptable", `*` stands for any coding
 * not named (identity included), and at equal weight br goes first (smaller
 * files), and a compressed file before the unencoded one. A coding weighted
 * below identity is left out: the unencoded file is then preferred.
 */

export interface Variant {
  readonly encoding: 'br' | 'gzip';
  /** The suffix of the precompressed file next to the original. */
  readonly ext: string;
}

const BR: Variant = { encoding: 'br', ext: '.br' };
const GZIP: Variant = { encoding: 'gzip', ext: '.gz' };
const NONE: readonly Variant[] = [];
const BR_ONLY: readonly Variant[] = [BR];
const GZIP_ONLY: readonly Variant[] = [GZIP];
const BR_GZIP: readonly Variant[] = [BR, GZIP];
const GZIP_BR: readonly Variant[] = [GZIP, BR];

/** A qvalue ("0" to "1" with at most three decimals); NaN when malformed. */
function qvalue(text: string): number {
  if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(text)) return NaN;
  return Number(text);
}

/** The variants to try, best first, for one Accept-Encoding value. */
export function parseAcceptEncoding(header: string): readonly Variant[] {
  let br = -1;
  let gzip = -1;
  let any = -1;
  let identity = -1;
  for (const element of header.split(',')) {
    const semi = element.indexOf(';');
    const coding = (semi < 0 ? element : element.slice(0, semi)).trim().toLowerCase();
    if (coding === '') continue;
    let q = 1;
    if (semi >= 0) {
      for (const param of element.slice(semi + 1).split(';')) {
        const eq = param.indexOf('=');
        if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
        q = qvalue(param.slice(eq + 1).trim());
      }
    }
    if (Number.isNaN(q)) continue; // a malformed weight: the element is ignored
    // The highest weight wins when a coding is listed twice.
    if (coding === 'br') br = Math.max(br, q);
    else if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip, q);
    else if (coding === 'identity') identity = Math.max(identity, q);
    else if (coding === '*') any = Math.max(any, q);
  }
  if (br < 0) br = any;
  if (gzip < 0) gzip = any;
  // The unencoded file competes too: its weight is identity's, else `*`'s, else it is acceptable
  // by default (§12.5.3) and loses to any coding with a weight. A coding weighted below it is not
  // tried; `identity;q=0` (or `*;q=0` without identity) leaves every acceptable coding in.
  if (identity < 0) identity = any < 0 ? 0 : any;
  const brOk = br > 0 && br >= identity;
  const gzipOk = gzip > 0 && gzip >= identity;
  if (!brOk) return gzipOk ? GZIP_ONLY : NONE;
  if (!gzipOk) return BR_ONLY;
  return gzip > br ? GZIP_BR : BR_GZIP;
}

/** Distinct header values remembered; clients send a handful, so the map is simply cleared when full. */
export const ACCEPT_ENCODING_CACHE_MAX = 256;
const cache = new Map<string, readonly Variant[]>();

/** parseAcceptEncoding, remembered per header value (the answers are shared constants). */
export function acceptedVariants(header: string | undefined): readonly Variant[] {
  if (header === undefined || header === '') return NONE;
  let v = cache.get(header);
  if (v === undefined) {
    v = parseAcceptEncoding(header);
    if (cache.size >= ACCEPT_ENCODING_CACHE_MAX) cache.clear();
    cache.set(header, v);
  }
  return v;
}

/** Header values currently remembered (tests). */
export function acceptEncodingCacheSize(): number {
  return cache.size;
}
