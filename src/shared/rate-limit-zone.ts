/**
 * A RateLimiter's zone: its shared bucket table and what the table means.
 * The coordinator picks the zone of every RateLimiter when a config is
 * compiled and hands the buffer to the workers on the filter spec under
 * ZONE_KEY (as pools get their slots under SLOTS_KEY); a RateLimiter of the
 * same pipeline and name keeps its zone across swaps.
 */
import { createTableBuffer, SharedBuckets, SLOT_BYTES, tableSlots } from './rate-limit-table';

export const ZONE_KEY = 'zone';

/** The spec fields a zone depends on (a RateLimiterSpec fits). */
export interface ZoneSpec {
  readonly rate: number;
  readonly per: number;
  readonly burst?: number | undefined;
  readonly key: string;
  readonly keyName?: string | undefined;
  readonly maxKeys: number;
}

export interface Zone {
  readonly buckets: SharedBuckets;
  /** What a bucket counts: a zone is inherited only by a limiter that counts the same thing. */
  readonly shape: string;
  readonly limits: string;
}

export function keyShape(spec: ZoneSpec): string {
  return spec.key === 'header' || spec.key === 'cookie' ? `${spec.key}:${spec.keyName ?? ''}` : spec.key;
}

/** Slots of a limiter's table: a route-wide limiter has a single key. */
export function zoneSlots(spec: ZoneSpec): number {
  return tableSlots(spec.key === 'route' ? 1 : spec.maxKeys);
}

function limitsOf(spec: ZoneSpec): string {
  return `${spec.rate}/${spec.per}/${spec.burst ?? spec.rate}/${zoneSlots(spec)}`;
}

/** The limiter's table over `buffer`: `rate` tokens per `per`, holding at most `burst` (default `rate`). */
function bucketsOver(buffer: SharedArrayBuffer, spec: ZoneSpec): SharedBuckets {
  return new SharedBuckets(buffer, spec.rate / spec.per, spec.burst ?? spec.rate);
}

/** A zone over a table the coordinator made for this very spec (a worker's view of it). */
export function zoneOver(buffer: SharedArrayBuffer, spec: ZoneSpec): Zone {
  if (buffer.byteLength !== zoneSlots(spec) * SLOT_BYTES) throw new Error(`the rate limit table has ${buffer.byteLength} bytes, not the ${zoneSlots(spec) * SLOT_BYTES} its spec needs`);
  return { buckets: bucketsOver(buffer, spec), shape: keyShape(spec), limits: limitsOf(spec) };
}

/**
 * The zone for `spec` given the zone of the limiter it replaces: the very same one when it counts
 * the same keys with the same limits (a swap of another object, a DNS refresh); a new table when
 * the limits changed, where each client keeps the tokens it has (capped at the new burst) rather
 * than a full new burst, so raising the limit is no reset and lowering it takes effect at once;
 * an empty one when nothing is inherited or buckets counted something else (other clients).
 */
export function zoneFor(spec: ZoneSpec, previous: Zone | null, now: number): Zone {
  const shape = keyShape(spec);
  const limits = limitsOf(spec);
  if (previous !== null && previous.shape === shape && previous.limits === limits) return previous;
  const buckets = bucketsOver(createTableBuffer(zoneSlots(spec)), spec);
  if (previous !== null && previous.shape === shape) buckets.carryFrom(previous.buckets, now);
  return { buckets, shape, limits };
}
