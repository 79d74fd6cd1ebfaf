import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, readStats } from './helpers/admin';
import { startGateway, type Gateway } from './helpers/gateway';
import { rawRequest } from './helpers/raw';

/** engine: node answers a request node:http cannot parse itself (400/431/408): it must still show in /stats and the access log. */
describe('engine: node, a request the engine cannot parse', () => {
  let gw: Gateway;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ngate-unparsed-'));
    const server = (name: string, format: string): string => `kind: HTTPServer
name: ${name}
port: 0
address: 127.0.0.1
engine: node
accessLog: { path: ${path.join(dir, `${name}.log`)}, format: ${format} }
rules:
  - paths:
      - { name: all, pathPrefix: /, backend: ok }
---
`;
    gw = await startGateway(`${server('j', 'json')}${server('c', 'combined')}kind: Pipeline
name: ok
filters:
  - { name: m, kind: Mock, rules: [{ body: fine }] }
`);
  });
  after(async () => {
    await gw.stop();
  });

  const lines = (name: string, n: number): Promise<string[]> =>
    eventually(
      async () => {
        const file = path.join(dir, `${name}.log`);
        const all = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
        return all.length >= n ? all : undefined;
      },
      5000,
      `${n} lines in ${name}.log`,
    );

  it('counts the 400 in the listener total and 4xx and logs it with its error code', async () => {
    const reply = await rawRequest(gw.ports.get('j') as number, 'GET /x HTTP/1.1\r\nHost: a\r\nBad Header: v\r\n\r\n');
    assert.match(reply.text, /^HTTP\/1\.1 400 /);
    const stats = await eventually(async () => {
      const s = await readStats(gw.admin);
      return s.get('http.j.downstream_rq_total') === '1' ? s : undefined;
    }, 5000, 'the 400 counted');
    assert.equal(stats.get('http.j.downstream_rq_4xx'), '1');
    assert.equal(stats.get('http.j.downstream_rq_active'), '0');
    const [line] = await lines('j', 1);
    const entry = JSON.parse(line as string) as Record<string, unknown>;
    assert.equal(entry.status, 400);
    assert.equal(entry.error, 'NGATE_ERR_BAD_REQUEST');
    assert.equal(entry.remote, '127.0.0.1');
    assert.equal(entry.server, 'j');
  });

  it('writes "-" for the request line in combined, as nginx does', async () => {
    const reply = await rawRequest(gw.ports.get('c') as number, 'GET /x HTTP/1.1\r\nHost: a\r\nBad Header: v\r\n\r\n');
    assert.match(reply.text, /^HTTP\/1\.1 400 /);
    const [line] = await lines('c', 1);
    assert.match(line as string, /^127\.0\.0\.1 - - \[[^\]]+\] "-" 400 \d+ "-" "-" - - [\d.]+ -$/);
  });
});
