import { isIPv6 } from 'node:net';

/**
 * What a rewritten request target may hold. undici sends a path only of
 * characters 0x21-0xff; `?` and `#` would start a query or fragment of their
 * own in the upstream's request line, so a path rewrite must never add them.
 */
const PATH_CHARS = '\\x21\\x22\\x24-\\x3e\\x40-\\xff';

/** An origin-form path without a query: what the RequestAdaptor may send upstream. */
export const ORIGIN_PATH = new RegExp(`^/[${PATH_CHARS}]*$`);

/** Text a path rewrite may put into a path (the regexpReplace replacement). */
export const PATH_TEXT = new RegExp(`^[${PATH_CHARS}]*$`);

const HOST = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?))(?::(\d{1,5}))?$/;

/** Whether `v` is a Host field value: a name or IPv4 address, or an IPv6 address in brackets, with an optional port 1-65535. */
export function isHostPort(v: string): boolean {
  const m = HOST.exec(v);
  if (m === null) return false;
  if (m[1] !== undefined && !isIPv6(m[1])) return false;
  if (m[2]?.includes('..') === true) return false;
  const port = m[3] === undefined ? 1 : Number(m[3]);
  return port >= 1 && port <= 65535;
}
