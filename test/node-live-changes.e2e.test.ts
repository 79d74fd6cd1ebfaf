import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { rawRequest } from './helpers/raw';

function server(port: number, extra: string): string {
  return `kind: HTTPServer
name: live
engine: node
port: ${port}
${extra}
rules: [{ paths: [{ pathPrefix: /, backend: answer }] }]
`;
}

/** What the running node listener answers a keep-alive GET with (status line and Keep-Alive field). */
async function keepAliveOf(port: number): Promise<string> {
  const r = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 200 });
  assert.match(r.text, /^HTTP\/1\.1 200 /);
  return /\r\nkeep-alive: ([^\r]*)\r\n/i.exec(r.text)?.[1] ?? 'none';
}

async function put(gw: Gateway, body: string): Promise<{ status: number; body: string }> {
  return http(`${gw.admin}/apis/v2/objects/live`, { method: 'PUT', body });
}

/** Changes of a running engine: node HTTPServer through the object API, on its own port. */
describe('engine: node, settings changed on a running server', () => {
  let gw: Gateway;
  let port: number;
  before(async () => {
    gw = await startGateway(`${server(0, '')}---
kind: Pipeline
name: answer
filters: [{ name: m, kind: Mock, rules: [{ body: fine }] }]
`);
    port = gw.ports.get('live') as number;
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
  });

  it('a keepAliveTimeout change is applied in place: the Keep-Alive field says the new one', async () => {
    assert.equal(await keepAliveOf(port), 'timeout=60');
    const r = await put(gw, server(port, 'keepAliveTimeout: 5s'));
    assert.equal(r.status, 200, r.body);
    assert.equal(await keepAliveOf(port), 'timeout=5');
  });

  it('a pipelining change (ignored on node) applies in place instead of binding the port twice', async () => {
    const r = await put(gw, server(port, 'keepAliveTimeout: 5s\npipelining: hold'));
    assert.equal(r.status, 200, r.body);
    assert.equal(await keepAliveOf(port), 'timeout=5');
    assert.equal((await http(`http://127.0.0.1:${port}/`)).body, 'fine');
  });

  it('a protocols or header-limit change is refused with the way to do it, and the server keeps serving', async () => {
    for (const [extra, what] of [
      ['protocols: [http1]', 'protocols'],
      ['maxHeaderBytes: 8k', 'maxHeaderBytes'],
      ['maxHeaderCount: 50', 'maxHeaderCount'],
    ] as const) {
      const r = await put(gw, server(port, `keepAliveTimeout: 5s\n${extra}`));
      assert.equal(r.status, 409, r.body);
      const body = JSON.parse(r.body) as { errors: { text: string }[] };
      assert.equal(
        body.errors[0]?.text,
        `request body:4: HTTPServer/live port: ${what} cannot change on engine: node (fixed when its server is created) while HTTPServer/live listens on port ${port}: change the port in the same update, or delete the server and create it again`,
      );
    }
    assert.equal(await keepAliveOf(port), 'timeout=5');
  });
});
