/**
 * Every slot of the shared memory the coordinator hands to all workers.
 *
 * Service slots (Int32, shared by all workers):
 *   [service * SERVICE_STRIDE + RR_CURSOR]   round-robin cursor (Atomics.add), so that
 *                                            round robin is global across workers
 * Endpoint slots (Int32):
 *   [endpoint * ENDPOINT_STRIDE + HEALTH]    1 healthy, 0 unhealthy — written by the coordinator only
 *   [endpoint * ENDPOINT_STRIDE + IN_FLIGHT] requests in flight across workers (Atomics.add/sub)
 *   [endpoint * ENDPOINT_STRIDE + RAMP]      slow start: 0 outside a ramp (full weight), else the
 *                                            percent (1-99) of its weight it takes now — coordinator only
 * Strides are 16 Int32 = 64 bytes so that two slots never share a cache line.
 */
export const MAX_SERVICES = 4096;
export const MAX_ENDPOINTS = 16384;

export const SERVICE_STRIDE = 16;
export const RR_CURSOR = 0;

export const ENDPOINT_STRIDE = 16;
export const HEALTH = 0;
export const IN_FLIGHT = 1;
export const RAMP = 2;

const SERVICE_BYTES = MAX_SERVICES * SERVICE_STRIDE * 4;
const ENDPOINT_BYTES = MAX_ENDPOINTS * ENDPOINT_STRIDE * 4;

export interface SharedState {
  readonly buffer: SharedArrayBuffer;
  readonly services: Int32Array;
  readonly endpoints: Int32Array;
}

export function createSharedState(): SharedState {
  const buffer = new SharedArrayBuffer(SERVICE_BYTES + ENDPOINT_BYTES);
  const state = viewSharedState(buffer);
  for (let i = 0; i < MAX_ENDPOINTS; i++) state.endpoints[i * ENDPOINT_STRIDE + HEALTH] = 1;
  return state;
}

export function viewSharedState(buffer: SharedArrayBuffer): SharedState {
  return {
    buffer,
    services: new Int32Array(buffer, 0, MAX_SERVICES * SERVICE_STRIDE),
    endpoints: new Int32Array(buffer, SERVICE_BYTES, MAX_ENDPOINTS * ENDPOINT_STRIDE),
  };
}

/** The slots of one Proxy pool, written into its compiled spec under SLOTS_KEY by the coordinator. */
export interface PoolSlots {
  readonly service: number;
  readonly endpoints: number[];
}
export const SLOTS_KEY = 'slots';
