import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBackends, type Backend } from './helpers/backends';
import { REPO_ROOT, startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

/** The bundled example, with its fixed ports swapped for test ports. */
function demoConfig(backends: Backend[]): string {
  let text = readFileSync(path.join(REPO_ROOT, 'configs', 'examples', 'easegress-demo.yaml'), 'utf8');
  text = text.replace('port: 10080', 'port: 0');
  backends.forEach((b, i) => (text = text.replace(`http://127.0.0.1:${9095 + i}`, b.url)));
  return text;
}

for (const workers of [1, 2]) {
  describe(`Easegress seed scenario (${workers} worker(s))`, () => {
    let backends: Backend[];
    let gw: Gateway;
    before(async () => {
      backends = await startBackends(3);
      gw = await startGateway(demoConfig(backends), { workers });
    });
    after(async () => {
      assert.equal(await gw.stop(), 0);
      await Promise.all(backends.map((b) => b.close()));
    });

    it('refuses a non-JSON body with 400 and nothing reaches a backend', async () => {
      const r = await http(gw.url('server-demo', '/pipeline'), { method: 'POST', body: 'x' });
      assert.equal(r.status, 400);
      assert.match(r.body, /NGATE_ERR_VALIDATION/);
      assert.equal(backends.reduce((n, b) => n + b.seen.length, 0), 0);
    });

    it('round-robins JSON requests 1, 2, 3, 1 with the adapted header and the request unchanged', async () => {
      const order: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await http(gw.url('server-demo', `/pipeline/x?q=${i}&b=2`), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: `{"n":${i}}`,
          fresh: true,
        });
        assert.equal(r.status, 200);
        order.push(r.headers['x-backend'] as string);
      }
      assert.deepEqual(order, ['1', '2', '3', '1', '2', '3']);
      const all = backends.flatMap((b) => b.seen);
      assert.equal(all.length, 6);
      for (const seen of all) {
        assert.equal(seen.method, 'POST');
        assert.match(seen.url, /^\/pipeline\/x\?q=\d&b=2$/);
        assert.equal(seen.headers['x-adapt-key'], 'goodplan');
        assert.match(seen.body, /^\{"n":\d\}$/);
        assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
        assert.equal(seen.headers.via, '1.1 ngate');
      }
    });

    it('answers 404 when no rule matches', async () => {
      const r = await http(gw.url('server-demo', '/elsewhere'));
      assert.equal(r.status, 404);
      assert.match(r.body, /NGATE_ERR_NO_ROUTE/);
    });
  });
}
