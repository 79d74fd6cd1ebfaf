import { dict, int, list, object, oneOf, optional, refine, regexp, size, str, withDefault, type Infer, type Issue, type Schema } from '../../../config/schema-kit';
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

const proxyObject = object(
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
export type ProxySpec = Infer<typeof proxyObject>;

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The Easegress v2 shape: `pools: [...]` where the one pool without `filter`
 * is the main pool and the others are candidates, in order. Rewritten into
 * mainPool/candidatePools; issues keep pointing at `pools[i]`.
 */
function fromPools(v: Record<string, unknown>, path: Issue['path'], issues: Issue[]): ProxySpec | undefined {
  const { pools, ...rest } = v;
  if (!Array.isArray(pools) || pools.length === 0) {
    issues.push({ path: [...path, 'pools'], message: 'expected a non-empty list of pools' });
    return undefined;
  }
  if (rest.mainPool !== undefined || rest.candidatePools !== undefined) {
    issues.push({ path: [...path, 'pools'], message: 'give either pools or mainPool/candidatePools, not both' });
    return undefined;
  }
  const mains = pools.flatMap((p, i) => (isMap(p) && p.filter === undefined ? [i] : []));
  if (mains.length !== 1) {
    issues.push({ path: [...path, 'pools'], message: `exactly one pool must have no filter (the main pool); found ${mains.length}` });
    return undefined;
  }
  const mainAt = mains[0] as number;
  const candidateAt = pools.flatMap((_p, i) => (i === mainAt ? [] : [i]));
  const local: Issue[] = [];
  const spec = proxyObject.check(
    { ...rest, mainPool: pools[mainAt], candidatePools: candidateAt.length === 0 ? undefined : candidateAt.map((i) => pools[i] as unknown) },
    path,
    local,
  );
  for (const issue of local) {
    const at = issue.path.slice(path.length);
    if (at[0] === 'mainPool') issues.push({ ...issue, path: [...path, 'pools', mainAt, ...at.slice(1)] });
    else if (at[0] === 'candidatePools' && typeof at[1] === 'number') issues.push({ ...issue, path: [...path, 'pools', candidateAt[at[1]] as number, ...at.slice(2)] });
    else issues.push(issue);
  }
  return spec;
}

export const proxySchema: Schema<ProxySpec> & { shape: typeof proxyObject.shape } = {
  describe: proxyObject.describe,
  shape: proxyObject.shape,
  check(v, path, issues) {
    return isMap(v) && 'pools' in v ? fromPools(v, path, issues) : proxyObject.check(v, path, issues);
  },
};
