import assert from 'node:assert/strict';
import * as nodeHttp from 'node:http';
import { after, before, describe, it } from 'node:test';
import { reply, startFaultUpstream, type FaultUpstream, type Step } from './helpers/fault-upstream';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { rawRequest } from './helpers/raw';

interface EndpointView {
  url: string;
  rq_success: number;
  rq_error: number;
  rq_total: number;
}

const BODY = 'hello';
const CHUNKED_HEAD = 'HTTP/1.1 200 X\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n';
const CHUNK = `${BODY.length.toString(16)}\r\n${BODY}\r\n`;

/** The late-trailer responses wait for the test to have read their body before sending the trailer section. */
const released = new Map<string, () => void>();
const releases = new Map<string, Promise<void>>();
function gate(path: string): Promise<void> {
  let p = releases.get(path);
  if (p === undefined) {
    p = new Promise<void>((resolve) => released.set(path, resolve));
    releases.set(path, p);
  }
  return p;
}

function answer(path: string): readonly Step[] {
  const leaf = path.slice(path.lastIndexOf('/') + 1);
  const bytes = (s: string): Step => ['write', Buffer.from(s, 'latin1')];
  switch (leaf) {
    case 'fold':
      // A valid head and body, then an obs-fold line in the trailer section, all in one read.
      return [bytes(`${CHUNKED_HEAD}${CHUNK}0\r\nx-a: 1\r\n folded\r\n\r\n`)];
    case 'ctl-header':
      return [bytes(reply(200, BODY, { 'x-bad': 'a\x01b' }))];
    case 'del-header':
      return [bytes(reply(200, BODY, { 'x-bad': 'a\x7fb' }))];
    case 'ctl-trailer':
      return [bytes(`${CHUNKED_HEAD}${CHUNK}0\r\nx-sum: a\x01b\r\n\r\n`)];
    case 'obs-text-header':
      // obs-text (RFC 9110 §5.5): bytes 0x80-0xFF are allowed in a field value and go on as they came.
      return [bytes(reply(200, BODY, { 'x-name': 'caf\xe9 \xff' }))];
    case 'late-ctl-trailer':
      return [bytes(`${CHUNKED_HEAD}${CHUNK}`), ['until', gate(path)], bytes('0\r\nx-sum: a\x01b\r\n\r\n')];
    default:
      return [bytes(reply(200, BODY, { 'x-good': 'a\tb c' }))];
  }
}

/** A GET through node's client, resolving once the response closed: whether it arrived whole, and what. */
function fetchWhole(port: number, path: string, onBody: () => void): Promise<{ status: number; body: string; complete: boolean; trailers: NodeJS.Dict<string> }> {
  return new Promise((resolve, reject) => {
    const req = nodeHttp.get({ host: '127.0.0.1', port, path, agent: false, headers: { te: 'trailers', connection: 'te' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString('latin1');
        if (body === BODY) onBody();
      });
      res.on('error', () => undefined);
      res.on('close', () => resolve({ status: res.statusCode ?? 0, body, complete: res.complete, trailers: res.trailers }));
    });
    req.on('error', reject);
  });
}

describe('upstream field values and failures after the head', () => {
  let up: FaultUpstream;
  let gw: Gateway;

  before(async () => {
    up = await startFaultUpstream((req) => answer(req.path));
    const rules = `rules:
  - paths:
      - { pathPrefix: /native/, backend: native }
      - { pathPrefix: /undici/, backend: undici }`;
    gw = await startGateway(
      `kind: HTTPServer
name: uws
port: 0
${rules}
---
kind: HTTPServer
name: node
port: 0
engine: node
${rules}
---
kind: Pipeline
name: native
filters: [{ name: proxy, kind: Proxy, mainPool: { serviceName: natives, client: native, servers: [{ url: "${up.url}" }] } }]
---
kind: Pipeline
name: undici
filters: [{ name: proxy, kind: Proxy, mainPool: { serviceName: undicis, client: undici, servers: [{ url: "${up.url}" }] } }]
`,
      { workers: 1 },
    );
  });
  after(async () => {
    for (const release of released.values()) release();
    assert.equal(await gw.stop(), 0);
    await up.close();
  });

  async function endpoint(service: string): Promise<EndpointView> {
    const body = JSON.parse((await http(`${gw.admin}/clusters?format=json`)).body) as { clusters: { name: string; endpoints: EndpointView[] }[] };
    const e = body.clusters.find((c) => c.name === service)?.endpoints.find((x) => x.url === up.url);
    assert.ok(e !== undefined, `${service} endpoint in /clusters`);
    return e;
  }

  it('an upstream that fails after its head, before the body went downstream, is one rq_error of its endpoint (not also an rq_success)', async () => {
    for (const server of ['uws', 'node']) {
      const before = await endpoint('natives');
      const r = await http(gw.url(server, '/native/fold'), { fresh: true });
      assert.equal(r.status, 502, server);
      assert.match(r.body, /NGATE_ERR_UPSTREAM_PROTOCOL/);
      const now = await endpoint('natives');
      assert.deepEqual(
        { rq_success: now.rq_success - before.rq_success, rq_error: now.rq_error - before.rq_error, rq_total: now.rq_total - before.rq_total },
        { rq_success: 0, rq_error: 1, rq_total: 1 },
        server,
      );
    }
  });

  it('a good answer is still one rq_success', async () => {
    const before = await endpoint('natives');
    const r = await http(gw.url('uws', '/native/good'), { fresh: true });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-good'], 'a\tb c');
    const now = await endpoint('natives');
    assert.deepEqual([now.rq_success - before.rq_success, now.rq_error - before.rq_error], [1, 0]);
  });

  for (const client of ['native', 'undici']) {
    for (const server of ['uws', 'node']) {
      it(`${client} client, ${server} listener: a control character in a header value or a trailer answers 502, nothing of the response goes on`, async () => {
        for (const leaf of ['ctl-header', 'del-header', 'ctl-trailer']) {
          const r = await http(gw.url(server, `/${client}/${leaf}`), { fresh: true });
          assert.equal(r.status, 502, leaf);
          assert.match(r.body, /NGATE_ERR_UPSTREAM_PROTOCOL/, leaf);
          assert.equal(r.headers['x-bad'], undefined, leaf);
        }
      });
    }
  }

  for (const client of ['native', 'undici']) {
    for (const server of ['uws', 'node']) {
      it(`${client} client, ${server} listener: obs-text bytes in a header value reach the client unchanged`, async () => {
        const r = await rawRequest(gw.ports.get(server) as number, `GET /${client}/obs-text-header HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`);
        assert.match(r.text, /^HTTP\/1\.1 200 /);
        assert.match(r.text, /\r\nx-name: caf\xe9 \xff\r\n/i, JSON.stringify(r.text.slice(0, 400)));
      });
    }
  }

  for (const server of ['uws', 'node']) {
    it(`native client, ${server} listener: a control character in a trailer after the body went downstream cuts the response off`, async () => {
      const path = `/native/${server}/late-ctl-trailer`;
      const r = await fetchWhole(gw.ports.get(server) as number, path, () => released.get(path)?.());
      assert.equal(r.status, 200);
      assert.equal(r.body, BODY);
      // No last chunk: the client sees a response that did not end, not a complete one without its trailer.
      assert.equal(r.complete, false);
      assert.deepEqual(r.trailers, {});
    });
  }
});
