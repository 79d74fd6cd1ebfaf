/**
 * Whether each endpoint takes traffic: the coordinator's one writer of the
 * shared HEALTH slot. An endpoint is available unless its active check
 * failed or it is ejected (passive health); each flip counts as a
 * membership change of its service. An endpoint returning to rotation
 * starts its slow-start ramp first, so no worker sees it at full weight.
 */
import { ENDPOINT_STRIDE, HEALTH } from '../../shared/sab-layout';

interface State {
  failedActive: boolean;
  ejected: boolean;
}

export type Cause = keyof State;

/** Told when an endpoint enters (`begin`, before workers can pick it) or leaves rotation. */
export interface RotationHook {
  begin(service: string, slot: number): void;
  end(slot: number): void;
}

export class Availability {
  private readonly states = new Map<number, State>();
  private readonly changes = new Map<string, number>();

  constructor(
    private readonly health: Int32Array,
    private readonly rotation: RotationHook | null = null,
  ) {}

  is(slot: number, cause: Cause): boolean {
    return this.states.get(slot)?.[cause] ?? false;
  }

  available(slot: number): boolean {
    return this.health[slot * ENDPOINT_STRIDE + HEALTH] === 1;
  }

  set(service: string, slot: number, cause: Cause, value: boolean): void {
    let state = this.states.get(slot);
    if (state === undefined) {
      if (!value) return;
      state = { failedActive: false, ejected: false };
      this.states.set(slot, state);
    }
    state[cause] = value;
    const up = !state.failedActive && !state.ejected;
    if (up) this.states.delete(slot);
    const i = slot * ENDPOINT_STRIDE + HEALTH;
    const next = up ? 1 : 0;
    if (this.health[i] === next) return;
    if (next === 1) this.rotation?.begin(service, slot);
    Atomics.store(this.health, i, next);
    if (next === 0) this.rotation?.end(slot);
    this.changes.set(service, this.changeCount(service) + 1);
  }

  /** membership_change: how many times an endpoint of this service entered or left rotation. */
  changeCount(service: string): number {
    return this.changes.get(service) ?? 0;
  }
}
