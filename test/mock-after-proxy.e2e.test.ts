import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { routedServer } from './helpers/pipelines';
import { http } from './helpers/http';

/**
 * A Mock step reached after a Proxy step (a fallback the flow falls through
 * to) answers with its own status, headers and body only; the upstream
 * response it replaces is dropped, and one still streaming is cancelled, so
 * its connection does not stay open.
 */
describe('Mock after a Proxy step', { timeout: 20_000 }, () => {
  let backend: Backend;
  let gw: Gateway;
  /** Resolves when the backend's endless response is closed by the gateway. */
  let streamClosed: Promise<void> | null = null;
  before(async () => {
    backend = await startBackend(1, (req, res) => {
      res.setHeader('x-upstream', 'yes');
      res.setHeader('set-cookie', 'upstream=1');
      if (req.url?.endsWith('/endless') === true) {
        streamClosed = new Promise<void>((resolve) => res.on('close', resolve));
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        endless(res);
        return;
      }
      res.setHeader('content-type', 'text/plain');
      res.end('upstream body');
    });
    gw = await startGateway(
      `${routedServer('edge', [
        ['/scripted', 'scripted'],
        ['/', 'api'],
      ])}---
kind: Pipeline
name: scripted
flow: [{ filter: proxy }, { filter: s }]
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: ${backend.url} }]
  - name: s
    kind: Script
    code: "module.exports = { onResponse() { throw new Error('refused') } }"
---
kind: Pipeline
name: api
flow:
  - filter: v
    jumpIf: { invalid: fallback }
  - filter: proxy
  - filter: fallback
filters:
  - name: v
    kind: Validator
    headers: { X-Ok: { values: ["1"] } }
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: ${backend.url} }]
  - name: fallback
    kind: Mock
    rules:
      - code: 418
        headers: { X-Mock: teapot, Content-Type: text/teapot }
        body: short and stout
`,
      { workers: 1 },
    );
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  it('answers with the Mock alone, none of the upstream headers or body', { timeout: 5_000 }, async () => {
    const r = await http(gw.url('edge', '/x'), { headers: { 'x-ok': '1' } });
    assert.equal(r.status, 418);
    assert.equal(r.body, 'short and stout');
    assert.equal(r.headers['x-mock'], 'teapot');
    assert.equal(r.headers['content-type'], 'text/teapot');
    assert.equal(r.headers['x-upstream'], undefined);
    assert.equal(r.headers['set-cookie'], undefined);
    assert.equal(r.headers['content-length'], String('short and stout'.length));
  });

  it('answers the invalid request from the Mock without reaching the upstream', async () => {
    const before = backend.seen.length;
    const r = await http(gw.url('edge', '/x'));
    assert.equal(r.status, 418);
    assert.equal(r.body, 'short and stout');
    assert.equal(backend.seen.length, before);
  });

  it('cancels an upstream body still streaming, closing its response', { timeout: 5_000 }, async () => {
    const r = await http(gw.url('edge', '/endless'), { headers: { 'x-ok': '1' } });
    assert.equal(r.status, 418);
    assert.equal(r.body, 'short and stout');
    assert.equal(r.headers['x-upstream'], undefined);
    assert.ok(streamClosed !== null, 'the upstream saw the request');
    // The upstream never ends this body: only the gateway giving it up closes it.
    await streamClosed;
  });

  it('an error answer after the Proxy step (a Script failing on the response) cancels the streaming body too', { timeout: 10_000 }, async () => {
    const earlier = streamClosed;
    const r = await http(gw.url('edge', '/scripted/endless'));
    assert.equal(r.status, 500);
    assert.match(r.body, /NGATE_ERR_INTERNAL/);
    assert.ok(streamClosed !== null && streamClosed !== earlier, 'the upstream saw the request');
    await streamClosed;
  });
});

/** Writes a chunk every few milliseconds until the response is closed. */
function endless(res: ServerResponse): void {
  const timer = setInterval(() => res.write(Buffer.alloc(1024, 120)), 5);
  res.on('close', () => clearInterval(timer));
}
