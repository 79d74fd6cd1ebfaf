import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { healthCheckSchema } from '../src/config/pool-schema';
import { probe } from '../src/control/health/probe';
import { checked } from './helpers/context';
import { refusingPort } from './helpers/raw';

describe('health probe', () => {
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/status') res.end(req.headers.host === 'svc.internal' ? `{"status":"UP","pad":"${'x'.repeat(100_000)}"}` : '{"status":"DOWN"}');
      else if (req.url === '/created') res.writeHead(201).end('made');
      else res.writeHead(503).end('no');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const spec = (raw: Record<string, unknown>) => checked(healthCheckSchema, { timeout: '1s', ...raw });

  it('checks status lists, body text and sends configured headers', async () => {
    assert.equal(await probe(new URL(base), spec({ path: '/created', expectStatus: [200, 201] })), '');
    assert.equal(await probe(new URL(base), spec({ path: '/created', expectStatus: [200] })), 'status 201');
    assert.equal(await probe(new URL(base), spec({ path: '/status', expectBody: '"status":"UP"', headers: { Host: 'svc.internal' } })), '');
    assert.equal(await probe(new URL(base), spec({ path: '/status', expectBody: '"status":"UP"' })), 'body does not contain "\\"status\\":\\"UP\\""');
    assert.equal(await probe(new URL(base), spec({ path: '/missing' })), 'status 503');
  });

  it('reports a refused TCP connect and a refused HTTP probe', async () => {
    const port = await refusingPort();
    assert.match(await probe(new URL(`http://127.0.0.1:${port}`), spec({})), /ECONNREFUSED/);
    assert.match(await probe(new URL(`http://127.0.0.1:${port}`), spec({ path: '/' })), /ECONNREFUSED/);
  });
});
