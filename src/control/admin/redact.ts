/**
 * Secrets in objects shown over the admin API (`/apis/v2/objects`,
 * `/config_dump`): PEM private keys anywhere, and the fields that hold
 * credentials by name — a Validator's JWT secret, API keys and basic-auth
 * hashes, and header values the gateway sends with a credential's name
 * (`Authorization`, `X-Api-Key`, ... in a RequestAdaptor or a health
 * check). A redacted object still shows its shape, so operators can see what
 * is configured without learning the secret.
 */
export const REDACTED = '[redacted]';
export const REDACTED_KEY = '[redacted private key]';
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
/** Map keys whose string values are secrets wherever they appear. */
const SECRET_FIELDS = new Set(['secret', 'password', 'token', 'passphrase']);
/**
 * Map keys (header or query parameter names, in any case) whose string values
 * are credentials: the authorization headers (and `X-Auth...`), cookies, and
 * names saying api key, access key, token, secret, password or signature.
 * Scalars only (an unquoted YAML key is a number): a Validator's header rule
 * under such a name is a map, shown as it is.
 */
const CREDENTIAL_HEADER = /^(proxy-)?authorization$|^x-auth|^(set-)?cookie$|api[-_]?key|access[-_]?key|token|secret|passw(or)?d|signature/i;

function isSecretField(key: string): boolean {
  return SECRET_FIELDS.has(key) || CREDENTIAL_HEADER.test(key);
}

/** Map keys whose whole value (a list or a map of secrets) is redacted entry by entry. */
const SECRET_COLLECTIONS = new Map<string, string>([
  ['apiKey', 'keys'],
  ['basicAuth', 'users'],
]);

function redactValue(value: unknown, parentKey: string | null): unknown {
  if (typeof value === 'string') return PRIVATE_KEY.test(value) ? REDACTED_KEY : value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, parentKey));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const collection = parentKey === null ? undefined : SECRET_COLLECTIONS.get(parentKey);
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === collection) out[k] = Array.isArray(v) ? v.map(() => REDACTED) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).map((name) => [name, REDACTED])) : REDACTED;
    else if (isSecretField(k) && (typeof v === 'string' || typeof v === 'number')) out[k] = REDACTED;
    else out[k] = redactValue(v, k);
  }
  return out;
}

export function redactSecrets<T>(value: T): T {
  return redactValue(value, null) as T;
}

type Path = (string | number)[];

/**
 * The paths where `value` holds the placeholder `redactSecrets` would have put
 * there: what a `get` printed and was sent back unchanged. The same string
 * at a field that is never redacted is an ordinary value.
 */
export function placeholderPaths(value: unknown): Path[] {
  const out: Path[] = [];
  walk(value, null, [], out);
  return out;
}

function walk(value: unknown, parentKey: string | null, at: Path, out: Path[]): void {
  if (value === REDACTED_KEY) out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, parentKey, [...at, i], out));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const collection = parentKey === null ? undefined : SECRET_COLLECTIONS.get(parentKey);
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === collection) {
      if (v === REDACTED) out.push([...at, k]);
      else if (v !== null && typeof v === 'object') {
        for (const [entry, secret] of Object.entries(v as Record<string, unknown>)) if (secret === REDACTED) out.push([...at, k, Array.isArray(v) ? Number(entry) : entry]);
      }
    } else if (isSecretField(k) && v === REDACTED) out.push([...at, k]);
    else walk(v, k, [...at, k], out);
  }
}
