import { bool, duration, list, object, optional, str, withDefault, type Infer } from '../../../config/schema-kit';

export const corsSchema = object(
  {
    name: str(),
    kind: str(),
    /** Exact origins ("https://app.example.com"), "*" for any, or a wildcard host ("https://*.example.com"). */
    allowedOrigins: withDefault(list(str()), ['*']),
    allowedMethods: withDefault(list(str({ pattern: /^[A-Za-z]+$/, hint: 'an HTTP method' })), ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
    /** Request headers a preflight may ask for; absent: whatever the preflight asks is allowed. */
    allowedHeaders: optional(list(str())),
    exposedHeaders: optional(list(str())),
    allowCredentials: withDefault(bool(), false),
    /** How long browsers may cache a preflight answer; 0 leaves it to the browser. */
    maxAge: withDefault(duration(), 0),
  },
  { name: 'a CORS filter' },
);
export type CorsSpec = Infer<typeof corsSchema>;
