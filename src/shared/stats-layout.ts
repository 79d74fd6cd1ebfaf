/**
 * The stats shared memory: one block per worker, written only by that worker
 * (plain Float64 stores, no atomics), read by the coordinator.
 *
 * worker w block (WORKER_BYTES, at w * WORKER_BYTES):
 *   [service * CLUSTER_STRIDE + CLUSTER.<name>]    per service (the Proxy pool's service slot)
 *   [LISTENER_BASE + listener * LISTENER_STRIDE + LISTENER.<name>]   per HTTPServer (its listener slot)
 *   [ENDPOINT_BASE + endpoint * ENDPOINT_STATS_STRIDE + ENDPOINT.<name>]   per endpoint slot
 *   [ROUTE_BASE + route * ROUTE_STRIDE + ROUTE.<name>]   per path rule of an HTTPServer (its route slot)
 * Strides are multiples of 8 Float64 = 64 bytes: two slots never share a cache line.
 */
import { MAX_ENDPOINTS, MAX_SERVICES } from './sab-layout';
import { CLUSTER_COUNTERS, ENDPOINT_COUNTERS, LISTENER_COUNTERS, ROUTE_COUNTERS } from './stats-names';

export const MAX_LISTENERS = 256;
export const MAX_ROUTES = 4096;
export const CLUSTER_STRIDE = 32;
export const LISTENER_STRIDE = 16;
export const LISTENER_BASE = MAX_SERVICES * CLUSTER_STRIDE;
export const ENDPOINT_STATS_STRIDE = 8;
export const ENDPOINT_BASE = LISTENER_BASE + MAX_LISTENERS * LISTENER_STRIDE;
export const ROUTE_STRIDE = 16;
export const ROUTE_BASE = ENDPOINT_BASE + MAX_ENDPOINTS * ENDPOINT_STATS_STRIDE;
export const WORKER_FLOATS = ROUTE_BASE + MAX_ROUTES * ROUTE_STRIDE;
export const WORKER_BYTES = WORKER_FLOATS * 8;

if (CLUSTER_COUNTERS.length > CLUSTER_STRIDE || LISTENER_COUNTERS.length > LISTENER_STRIDE || ENDPOINT_COUNTERS.length > ENDPOINT_STATS_STRIDE || ROUTE_COUNTERS.length > ROUTE_STRIDE) {
  throw new Error('stats-layout: a counter list outgrew its stride');
}

export function createStatsBuffer(workers: number): SharedArrayBuffer {
  return new SharedArrayBuffer(workers * WORKER_BYTES);
}

/** The block of one worker. */
export function workerBlock(buffer: SharedArrayBuffer, worker: number): Float64Array {
  return new Float64Array(buffer, worker * WORKER_BYTES, WORKER_FLOATS);
}

export function clusterOffset(serviceSlot: number): number {
  return serviceSlot * CLUSTER_STRIDE;
}

export function listenerOffset(listenerSlot: number): number {
  return LISTENER_BASE + listenerSlot * LISTENER_STRIDE;
}

export function endpointOffset(endpointSlot: number): number {
  return ENDPOINT_BASE + endpointSlot * ENDPOINT_STATS_STRIDE;
}

export function routeOffset(routeSlot: number): number {
  return ROUTE_BASE + routeSlot * ROUTE_STRIDE;
}
