import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { H2Dispatcher } from '../src/dataplane/upstream/h2-upload';
import type { UpstreamDispatcher } from '../src/dataplane/upstream/pool-registry';

/**
 * A pool with `timeout: 0` has no deadline wrapper: the mirror's copy goes to
 * undici's pool as it is, so its handler must be one undici accepts.
 */
describe('a mirrored copy sent straight to an undici pool', () => {
  let server: Server;
  let pool: Pool;
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('mirrored'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(async () => {
    await pool.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('gets its status and drains its body', async () => {
    const h2 = new H2Dispatcher(pool as unknown as UpstreamDispatcher);
    const res = await h2.request({ method: 'POST', path: '/copy', body: Buffer.from('x') });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
  });
});
