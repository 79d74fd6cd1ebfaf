import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { startH2Backend, type H2Backend } from './helpers/h2-backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { engineServers, proxyPipeline } from './helpers/pipelines';
import { http } from './helpers/http';
import { rawRequest } from './helpers/raw';
import { eventually, readStats } from './helpers/admin';

const ROUNDS = 10;

/** /short: 100 bytes announced, 4 sent, then RST_STREAM(CANCEL). /goaway: a whole answer, then GOAWAY on its session. */
function handler(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  const path = String(headers[':path']);
  if (path.endsWith('/short')) {
    stream.respond({ ':status': 200, 'content-length': '100' });
    stream.write('abcd', () => stream.close(http2.constants.NGHTTP2_CANCEL));
    return;
  }
  stream.respond({ ':status': 200, 'content-length': '5' });
  stream.end('hello');
  if (path.endsWith('/goaway')) stream.session?.goaway();
}

describe('an HTTP/2 upstream body cut short of its content-length', () => {
  let up: H2Backend;
  let gw: Gateway;
  before(async () => {
    up = await startH2Backend('short', '127.0.0.1', 0, handler);
    gw = await startGateway(
      `${engineServers('h2')}---
${proxyPipeline('h2', `http://127.0.0.1:${up.port}`, 'protocol: h2')}`,
      { workers: 1 },
    );
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await up.close();
  });

  for (const server of ['uws', 'node']) {
    it(`${server} listener: the client gets the 4 bytes, then an abortive close, never a clean end or a hang`, async () => {
      const port = gw.ports.get(server) as number;
      for (let i = 0; i < ROUNDS; i++) {
        // A hang shows as `closed: false` once the wait runs out.
        const r = await rawRequest(port, `GET /short HTTP/1.1\r\nhost: x\r\n\r\n`, { idleMs: 3_000, maxMs: 4_000 });
        assert.match(r.text, /^HTTP\/1\.1 200 /, JSON.stringify(r.text));
        assert.match(r.text, /content-length: 100\r\n/i);
        assert.ok(r.text.endsWith('\r\n\r\nabcd'), JSON.stringify(r.text));
        assert.equal(r.closed, true, `round ${i}: the connection was left open`);
        await assert.rejects(http(gw.url(server, '/short'), { fresh: true }), 'a client library sees an incomplete body');
      }
      await eventually(
        async () => ((await readStats(gw.admin)).get(`http.${server}.downstream_rq_active`) === '0' ? true : undefined),
        5_000,
        'no request left in flight',
      );
    });

    it(`${server} listener: a GOAWAY in the same read as a whole answer never ends cleanly with the body lost`, async () => {
      // undici drops the session, and the stream's unread DATA with it, on GOAWAY: the answer is lost upstream of ngate.
      for (let i = 0; i < ROUNDS; i++) {
        const r = await http(gw.url(server, '/goaway'), { fresh: true }).catch((err: Error) => err);
        if (!(r instanceof Error)) assert.equal(r.body, 'hello', `round ${i}: ${r.status}`);
      }
      await eventually(
        async () => ((await readStats(gw.admin)).get(`http.${server}.downstream_rq_active`) === '0' ? true : undefined),
        5_000,
        'no request left in flight',
      );
    });
  }
});
