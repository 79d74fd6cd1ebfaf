import type { ServerResponse } from 'node:http';
import { after, before } from 'node:test';
import { startBackend, type Backend } from './backends';
import type { Gateway } from './gateway';

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

/**
 * Registers hooks on the enclosing suite: a held backend started before its
 * tests; at the end the held request released, every gateway pushed to
 * `gateways` still running killed (SIGKILL: a test may leave one mid-drain),
 * and the backend closed.
 */
export function heldBackendSuite(): { readonly held: HeldBackend; readonly gateways: Gateway[] } {
  let held: HeldBackend | undefined;
  const gateways: Gateway[] = [];
  before(async () => {
    held = await startHeldBackend();
  });
  after(async () => {
    held?.release();
    for (const gw of gateways) if (gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill('SIGKILL');
    await held?.backend.close();
  });
  return {
    get held(): HeldBackend {
      if (held === undefined) throw new Error('the held backend starts in the suite\'s before hook');
      return held;
    },
    gateways,
  };
}
