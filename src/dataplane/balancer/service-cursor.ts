import { RR_CURSOR, SERVICE_STRIDE } from '../../shared/sab-layout';

/** A service's shared round-robin cursor: one atomic add per pick keeps the order global across workers. */
export class ServiceCursor {
  private readonly index: number;
  constructor(
    private readonly services: Int32Array,
    slot: number,
  ) {
    this.index = slot * SERVICE_STRIDE + RR_CURSOR;
  }

  next(): number {
    return Atomics.add(this.services, this.index, 1) >>> 0;
  }
}
