import type { HeaderList } from '../headers';

/** Announced body: a length, CHUNKED for Transfer-Encoding: chunked, or a framing error message. */
export const CHUNKED = -1;

const DIGITS = /^\d{1,15}$/;

/**
 * Request framing checks run before anything else, because the uWS build
 * accepts ambiguous framing (it uses the first of two Content-Length values).
 * Ambiguity is refused with 400 and the connection is closed.
 */
export function requestBodyLength(headers: HeaderList): number | string {
  const lengths = headers.getAll('content-length');
  const te = headers.getAll('transfer-encoding');
  if (lengths.length > 1) return 'more than one Content-Length';
  if (lengths.length === 1 && te.length > 0) return 'both Content-Length and Transfer-Encoding';
  if (te.length > 1) return 'more than one Transfer-Encoding';
  if (te.length === 1) {
    if ((te[0] as string).trim().toLowerCase() !== 'chunked') return `unsupported Transfer-Encoding ${JSON.stringify(te[0])}`;
    return CHUNKED;
  }
  if (lengths.length === 1) {
    const v = (lengths[0] as string).trim();
    if (!DIGITS.test(v)) return `invalid Content-Length ${JSON.stringify(lengths[0])}`;
    return Number(v);
  }
  return 0;
}
