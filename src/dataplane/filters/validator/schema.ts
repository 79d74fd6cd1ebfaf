import { createPublicKey } from 'node:crypto';
import { anyMap, dict, list, object, oneOf, optional, refine, regexp, size, str, withDefault, type Infer } from '../../../config/schema-kit';
import { jsonSchemaAjv, schemaCompileMessage } from './json-schema-ajv';

export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256'] as const;

const headerRule = refine(
  object({ values: optional(list(str({ nonEmpty: false }))), regexp: optional(regexp()) }, { name: 'a header rule ({values} and/or {regexp})' }),
  (rule, path, issues) => {
    // A rule with nothing to match would refuse every request.
    if ((rule.values === undefined || rule.values.length === 0) && rule.regexp === undefined) {
      issues.push({ path, message: 'a header rule needs "values" (non-empty) or "regexp"; to only require the header, use regexp: ""' });
    }
  },
);

const jwtRule = refine(
  object(
    {
      algorithms: list(oneOf(JWT_ALGORITHMS), { min: 1 }),
      /** Shared secret for HS* algorithms. */
      secret: optional(str({ secret: true })),
      /** SPKI PEM public key for RS*, ES* and PS* algorithms. */
      publicKey: optional(str({ pattern: /-----BEGIN PUBLIC KEY-----/, hint: 'a PEM public key (-----BEGIN PUBLIC KEY-----)' })),
      /** Read the token from this cookie instead of `Authorization: Bearer`. */
      cookieName: optional(str()),
      issuer: optional(str()),
      audience: optional(str()),
    },
    { name: 'a JWT rule' },
  ),
  (jwt, path, issues) => {
    const needsSecret = jwt.algorithms.some((a) => a.startsWith('HS'));
    const needsKey = jwt.algorithms.some((a) => !a.startsWith('HS'));
    if (needsSecret && jwt.secret === undefined) issues.push({ path: [...path, 'secret'], message: 'HS* algorithms need a "secret"' });
    if (needsKey && jwt.publicKey === undefined) issues.push({ path: [...path, 'publicKey'], message: 'RS*/ES*/PS* algorithms need a "publicKey"' });
    if (jwt.publicKey !== undefined) {
      try {
        createPublicKey(jwt.publicKey);
      } catch (err) {
        issues.push({ path: [...path, 'publicKey'], message: `not a usable public key: ${(err as Error).message}` });
      }
    }
  },
);

/** htpasswd-style hashes: bcrypt ($2a$/$2b$/$2y$, cost 04-31 as bcrypt allows) or {SHA} (base64 SHA-1). */
const passwordHash = str({ pattern: /^(\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}|\{SHA\}[A-Za-z0-9+/]{27}=)$/, hint: 'a bcrypt ($2y$..., cost 04-31) or {SHA} htpasswd hash', secret: true });

const basicAuthRule = object(
  {
    realm: withDefault(str(), 'ngate'),
    /** user name → password hash, as the lines of an htpasswd file. */
    users: dict(passwordHash),
  },
  { name: 'a basic auth rule' },
);

const apiKeyRule = object(
  {
    /** Realm of the `WWW-Authenticate: ApiKey` challenge on a 401; default: the filter's name. */
    realm: optional(str()),
    header: withDefault(str(), 'X-API-Key'),
    /** Also accept the key from this query parameter. */
    query: optional(str()),
    keys: list(str({ pattern: /^.{16,}$/, hint: 'a key of at least 16 characters', secret: true }), { min: 1 }),
  },
  { name: 'an API key rule' },
);

const jsonSchemaDoc = refine(anyMap('a JSON Schema document'), (doc, path, issues) => {
  try {
    jsonSchemaAjv().compile(doc);
  } catch (err) {
    issues.push({ path, message: schemaCompileMessage(err as Error) });
  }
});

export const validatorSchema = object(
  {
    name: str(),
    kind: str(),
    headers: optional(dict(headerRule)),
    jwt: optional(jwtRule),
    basicAuth: optional(basicAuthRule),
    apiKey: optional(apiKeyRule),
    /** The request body must be JSON matching this schema (buffered up to `maxBodySize`). */
    jsonSchema: optional(jsonSchemaDoc),
    maxBodySize: withDefault(size(), 1024 * 1024),
    /** Bodies larger than this are validated against `jsonSchema` on the offload pool; at or above `maxBodySize`, never. */
    offloadAbove: withDefault(size(), 64 * 1024),
  },
  { name: 'a Validator filter' },
);
export type ValidatorSpec = Infer<typeof validatorSchema>;
export type JwtRuleSpec = NonNullable<ValidatorSpec['jwt']>;
export type BasicAuthSpec = NonNullable<ValidatorSpec['basicAuth']>;
export type ApiKeySpec = NonNullable<ValidatorSpec['apiKey']>;
