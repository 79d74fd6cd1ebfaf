import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, request } from 'undici';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';

const CLIENTS = 50;
const CHANGES = 200;

/** Version v: even → backend 1 with a plain chain, odd → backend 2 with an extra ResponseAdaptor. */
function pipeline(v: number, backends: Backend[]): object {
  const odd = v % 2 === 1;
  return {
    kind: 'Pipeline',
    name: 'live',
    filters: [
      { name: 'stamp', kind: 'RequestAdaptor', header: { set: { 'X-Version': String(v) } } },
      ...(odd ? [{ name: 'mark', kind: 'ResponseAdaptor', header: { set: { 'X-Chain': 'odd' } } }] : []),
      { name: 'proxy', kind: 'Proxy', mainPool: { servers: [{ url: (odd ? backends[1] : backends[0])?.url }] } },
    ],
  };
}

describe('config swaps under load', () => {
  let backends: Backend[];
  let gw: Gateway;
  before(async () => {
    // Backends answer with the version the gateway stamped on the request.
    backends = await Promise.all(
      [1, 2].map((id) =>
        startBackend(id, (req, res) => {
          res.setHeader('x-backend', String(id));
          res.setHeader('x-version', String(req.headers['x-version']));
          res.end('ok');
        }),
      ),
    );
    gw = await startGateway('kind: HTTPServer\nname: web\nport: 0\naddress: 127.0.0.1\nrules:\n  - paths:\n      - pathPrefix: /\n        backend: live\n', {
      workers: 2,
    });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all(backends.map((b) => b.close()));
  });

  it(`${CHANGES} pipeline changes while ${CLIENTS} keep-alive clients loop: no failure, every answer from one generation or the next`, async (t) => {
    const put = async (v: number): Promise<void> => {
      const res = await request(`${gw.admin}/apis/v2/objects${v === 0 ? '' : '/live'}`, { method: v === 0 ? 'POST' : 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(pipeline(v, backends)) });
      const body = await res.body.text();
      assert.ok(res.statusCode < 300, body);
    };
    await put(0);
    let applied = 0; // the last version whose call returned: every worker runs it
    let requested = 0; // the last version sent
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const origin = gw.url('web', '').replace(/\/$/, '');
    const clients = Array.from({ length: CLIENTS }, () => new Client(origin, { pipelining: 1 }));
    const loop = async (client: Client): Promise<void> => {
      while (!stop) {
        const floor = applied;
        try {
          const res = await client.request({ method: 'GET', path: '/x' });
          await res.body.text();
          const v = Number(res.headers['x-version']);
          const expectBackend = v % 2 === 1 ? '2' : '1';
          const expectChain = v % 2 === 1 ? 'odd' : undefined;
          if (res.statusCode !== 200) failures.push(`status ${res.statusCode}`);
          else if (!(v >= floor && v <= requested)) failures.push(`version ${v} outside [${floor}, ${requested}]`);
          else if (res.headers['x-backend'] !== expectBackend || res.headers['x-chain'] !== expectChain) failures.push(`version ${v} mixed with another generation`);
          else ok++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const loops = clients.map((c) => loop(c));
    try {
      for (let v = 1; v <= CHANGES; v++) {
        requested = v;
        await put(v);
        applied = v;
      }
    } finally {
      stop = true;
      await Promise.all(loops);
      await Promise.all(clients.map((c) => c.close()));
    }
    t.diagnostic(`${ok} requests answered, ${failures.length} failed`);
    assert.deepEqual(failures.slice(0, 5), []);
    assert.ok(ok > CHANGES, `only ${ok} requests completed`);
    const info = (await (await request(`${gw.admin}/server_info`)).body.json()) as { generation: number };
    assert.equal(info.generation, CHANGES + 2);
  });
});
