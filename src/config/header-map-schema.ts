import type { Schema } from './schema-kit';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** CR, LF and NUL would end the header line (response splitting); other controls are refused by peers. */
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * A map of header name → value that is safe to write on the wire: names are
 * tokens, values have no control characters, and `forbid` lists headers the
 * gateway frames itself (Content-Length, Transfer-Encoding) or must own.
 */
export function headerMap(opts: { forbid?: readonly string[] } = {}): Schema<Record<string, string>> {
  const forbid = new Set((opts.forbid ?? []).map((h) => h.toLowerCase()));
  return {
    describe: 'a map of header name → value',
    check(value, path, issues) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        issues.push({ path, message: `expected ${this.describe}` });
        return undefined;
      }
      const out: Record<string, string> = {};
      let ok = true;
      for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
        const v = typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : raw;
        if (!TOKEN.test(name)) {
          issues.push({ path: [...path, name], message: `"${name}" is not a valid header name` });
          ok = false;
        } else if (forbid.has(name.toLowerCase())) {
          issues.push({ path: [...path, name], message: `${name} is set by the gateway itself and cannot be configured here` });
          ok = false;
        } else if (typeof v !== 'string') {
          issues.push({ path: [...path, name], message: 'expected a string value' });
          ok = false;
        } else if (BAD_VALUE.test(v)) {
          issues.push({ path: [...path, name], message: 'control characters (CR, LF, NUL, ...) are not allowed in a header value' });
          ok = false;
        } else out[name] = v;
      }
      return ok ? out : undefined;
    },
  };
}

/** Headers whose framing the gateway owns: never configurable on a response or request. */
export const FRAMING_HEADERS = ['content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive'];
