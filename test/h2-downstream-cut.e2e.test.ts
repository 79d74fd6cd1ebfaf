import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { startFaultUpstream, type FaultUpstream, type Step } from './helpers/fault-upstream';
import { startGateway, type Gateway } from './helpers/gateway';
import { proxyConfig } from './helpers/pipelines';
import { rawRequest } from './helpers/raw';

const PIECE = 'x'.repeat(1000);

/** The upstream cuts each response after 1000 body bytes: /chunked and /length by a reset, /timeout by going silent past the pool's timeout. */
function script(req: { path: string }): readonly Step[] {
  if (req.path === '/chunked') return [['write', `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3e8\r\n${PIECE}\r\n`], ['wait', 50], ['reset']];
  if (req.path === '/length') return [['write', `HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n${PIECE}`], ['wait', 50], ['reset']];
  return [['write', `HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n${PIECE}`], ['wait', 3_000], ['end']];
}

interface H2Outcome {
  readonly status: number;
  readonly bytes: number;
  /** The stream ended with END_STREAM (a clean end). */
  readonly ended: boolean;
  readonly rstCode: number | undefined;
  readonly error: string | null;
}

/** One GET over h2c (prior knowledge), reporting how the stream ended. */
function h2cGet(port: number, path: string): Promise<H2Outcome> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    const req = session.request({ ':path': path, ':authority': 'x' });
    let status = 0;
    let bytes = 0;
    let ended = false;
    let error: string | null = null;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => (ended = true));
    req.on('error', (err: Error) => (error = err.message));
    req.on('close', () => {
      session.destroy();
      resolve({ status, bytes, ended, rstCode: req.rstCode, error });
    });
    req.end();
  });
}

describe('engine node: an upstream body cut off reaches an HTTP/2 client as a stream error, never a clean end', { timeout: 30_000 }, () => {
  let up: FaultUpstream;
  let gw: Gateway;
  before(async () => {
    up = await startFaultUpstream(script);
    gw = await startGateway(proxyConfig(up.url, 'engine: node\nprotocols: [http1, h2c]\n', { name: 'node', pool: 'timeout: 500ms' }), { workers: 1 });
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  for (const path of ['/chunked', '/length', '/timeout']) {
    it(`${path}: RST_STREAM(INTERNAL_ERROR) after the bytes that came`, async () => {
      const r = await h2cGet(gw.ports.get('node') as number, path);
      assert.equal(r.status, 200);
      assert.equal(r.bytes, 1000);
      assert.equal(r.ended, false, 'the stream ended cleanly');
      assert.equal(r.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR, JSON.stringify(r));
      assert.notEqual(r.error, null);
    });
  }

  it('HTTP/1.1 clients still get an abortive close without the last chunk', async () => {
    const r = await rawRequest(gw.ports.get('node') as number, 'GET /chunked HTTP/1.1\r\nhost: x\r\n\r\n', { idleMs: 3_000, maxMs: 4_000 });
    assert.match(r.text, /^HTTP\/1\.1 200 /);
    assert.equal(r.closed, true);
    assert.ok(!r.text.endsWith('0\r\n\r\n'), JSON.stringify(r.text.slice(-20)));
  });
});
