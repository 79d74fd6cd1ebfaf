import { dict, int, list, object, oneOf, optional, refine, regexp, size, str, withDefault, type Infer } from '../../../config/schema-kit';
import { poolSchema } from '../../../config/pool-schema';

/** One request header a candidate pool's filter looks at: any of `values` exactly, or `regexp`. */
const headerMatchSchema = refine(
  object({ values: optional(list(str({ nonEmpty: false }), { min: 1 })), regexp: optional(regexp()) }, { name: 'a header match ({values: [...]} or {regexp})' }),
  (m, path, issues) => {
    if ((m.values === undefined) === (m.regexp === undefined)) issues.push({ path, message: 'give exactly one of values or regexp' });
  },
);

/** What `percentage` is taken of: an exact share counted per worker, or a hash of the client IP, a header or a cookie (sticky). */
export const PERCENTAGE_BY = ['spread', 'ip', 'header', 'cookie'] as const;

export const poolFilterSchema = refine(
  object(
    {
      /** Every named header must match (names are case-insensitive). */
      headers: optional(dict(headerMatchSchema)),
      /** Of the requests the headers match, this share goes to the pool. */
      percentage: optional(int({ min: 0, max: 100 })),
      percentageBy: withDefault(oneOf(PERCENTAGE_BY), 'spread'),
      /** The header or cookie name percentageBy header|cookie hashes on. */
      percentageKey: optional(str()),
    },
    { name: 'a pool filter ({headers, percentage})' },
  ),
  (f, path, issues) => {
    if (f.headers === undefined && f.percentage === undefined) issues.push({ path, message: 'give headers, percentage or both' });
    if ((f.percentageBy === 'header' || f.percentageBy === 'cookie') && f.percentageKey === undefined) {
      issues.push({ path: [...path, 'percentageKey'], message: `required: the ${f.percentageBy} name percentageBy ${f.percentageBy} hashes on` });
    }
  },
);
export type PoolFilterSpec = Infer<typeof poolFilterSchema>;

export const candidatePoolSchema = object({ ...poolSchema.shape, filter: poolFilterSchema }, { name: 'a candidate pool (a pool with a filter)' });
export type CandidatePoolSpec = Infer<typeof candidatePoolSchema>;

export const mirrorPoolSchema = object(
  {
    ...poolSchema.shape,
    /** Share of requests copied (counted per worker, exact). */
    percentage: withDefault(int({ min: 0, max: 100 }), 100),
    /** Requests with a larger body are forwarded but not mirrored (counted as upstream_rq_mirror_skipped). */
    maxBodySize: withDefault(size(), 1 << 20),
  },
  { name: 'a mirrorPool' },
);
export type MirrorPoolSpec = Infer<typeof mirrorPoolSchema>;

export const proxySchema = object(
  {
    name: str(),
    kind: str(),
    mainPool: poolSchema,
    /** Tried in order; the first whose filter matches takes the request, otherwise mainPool does. */
    candidatePools: optional(list(candidatePoolSchema, { min: 1 })),
    mirrorPool: optional(mirrorPoolSchema),
  },
  { name: 'a Proxy filter' },
);
export type ProxySpec = Infer<typeof proxySchema>;
