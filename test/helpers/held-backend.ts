import type { ServerResponse } from 'node:http';
import { startBackend, type Backend } from './backends';

export interface HeldBackend {
  readonly backend: Backend;
  /** Resolves once a /slow request reached the backend. */
  readonly arrived: Promise<void>;
  /** Answers the held /slow request with "slow done" (no-op when none is held). */
  release(): void;
}

/** A backend that holds /slow requests until the test calls release(); anything else is answered "fast". */
export async function startHeldBackend(): Promise<HeldBackend> {
  let held: ServerResponse | null = null;
  let arrivedResolve: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (arrivedResolve = resolve));
  const backend = await startBackend(1, (req, res) => {
    if (req.url === '/slow') {
      held = res;
      arrivedResolve();
      return;
    }
    res.end('fast');
  });
  const release = (): void => {
    (held as ServerResponse | null)?.end('slow done');
    held = null;
  };
  return { backend, arrived, release };
}
