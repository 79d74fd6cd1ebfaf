import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { PoolRegistry, type UpstreamDispatcher, type UpstreamOptions } from '../src/dataplane/upstream/pool-registry';
import { closedPort } from './helpers/raw';

const OPTS: UpstreamOptions = {
  connectTimeout: 1_000,
  timeout: 1_000,
  keepAliveTimeout: 1_000,
  maxConnections: 1,
  tls: null,
  client: 'native',
  protocol: 'http1',
  maxConcurrentStreams: 100,
};
const OBSERVER = { connected: () => undefined, disconnected: () => undefined };
const IGNORE: Dispatcher.DispatchHandler = { onResponseError: () => undefined };

/** Whether the pool still takes requests (a closed native pool refuses at once); the request goes to a closed port. */
function open(pool: UpstreamDispatcher): boolean {
  return pool.dispatch({ method: 'GET', path: '/', headers: [] }, IGNORE);
}

describe('pool registry leases', () => {
  it('a pool stays open while any committed generation that asked for it has not closed', async () => {
    const origin = `http://127.0.0.1:${await closedPort()}`;
    const reg = new PoolRegistry();
    const a = reg.get(origin, OPTS, 0, OBSERVER);
    const release1 = reg.commit();
    // The next generation changes the timeout: another pool.
    const b = reg.get(origin, { ...OPTS, timeout: 2_000 }, 0, OBSERVER);
    assert.notEqual(a, b);
    const release2 = reg.commit();
    assert.equal(open(a), true, 'the replaced generation still runs requests on its pool');
    release1();
    assert.equal(open(a), false, 'closed once its last generation closed');
    assert.equal(open(b), true);
    release2();
    await reg.closeAll();
  });

  it('a pool a generation being built asked for again survives the release of the last committed one', async () => {
    const origin = `http://127.0.0.1:${await closedPort()}`;
    const reg = new PoolRegistry();
    const a = reg.get(origin, OPTS, 0, OBSERVER);
    const release1 = reg.commit();
    reg.get(origin, { ...OPTS, timeout: 2_000 }, 0, OBSERVER);
    reg.commit();
    // A third generation goes back to the first options while the first generation still runs.
    assert.equal(reg.get(origin, OPTS, 0, OBSERVER), a);
    release1();
    const release3 = reg.commit();
    assert.equal(open(a), true, 'the third generation got an open pool');
    release3();
    assert.equal(open(a), false);
    await reg.closeAll();
  });

  it('an aborted generation closes only the pools no committed generation holds', async () => {
    const origin = `http://127.0.0.1:${await closedPort()}`;
    const reg = new PoolRegistry();
    const a = reg.get(origin, OPTS, 0, OBSERVER);
    reg.commit();
    assert.equal(reg.get(origin, OPTS, 0, OBSERVER), a);
    const extra = reg.get(origin, { ...OPTS, timeout: 3_000 }, 0, OBSERVER);
    reg.abortBuild();
    assert.equal(open(a), true);
    assert.equal(open(extra), false);
    await reg.closeAll();
  });
});
