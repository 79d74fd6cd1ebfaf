import assert from 'node:assert/strict';
import * as nodeHttp from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { openSocket, RawConn } from './helpers/raw-conn';

/**
 * A pool's `timeout` starts once the request body has gone upstream (Envoy
 * starts its route timeout at the end of the downstream request): a client
 * that uploads for longer than `timeout` still gets the answer the upstream
 * sends right after the last byte, while an upstream that then stalls still
 * gets 504 after `timeout`. An upload that stops making progress for
 * `timeout` ends too, so nothing hangs.
 */

const TIMEOUT_MS = 600;
/** The slow upload: PIECES pieces, one every GAP_MS, so it lasts twice the timeout; each gap is a quarter of it (room for a late timer on a loaded machine). */
const PIECES = 8;
const GAP_MS = 150;
const PIECE = 'x'.repeat(10);
const clients = ['native', 'undici', 'h2'] as const;
type Client = (typeof clients)[number];

class Conn extends RawConn {
  static async open(port: number): Promise<Conn> {
    return new Conn(await openSocket(port));
  }

  /** Resolves once one whole response (sized by Content-Length) arrived, or the connection closed, or 5 s passed. */
  async response(): Promise<{ status: number; body: string }> {
    const complete = (): boolean => {
      const end = this.text.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(this.text.slice(0, end))?.[1] ?? 0);
      return this.text.length >= end + 4 + length;
    };
    await this.until(() => complete() || this.closed, 5_000);
    const end = this.text.indexOf('\r\n\r\n');
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(this.text)?.[1] ?? 0), body: end < 0 ? '' : this.text.slice(end + 4) };
  }
}

interface Upload {
  status: number;
  body: string;
  /** From the last body byte sent (or the last piece of a stalled upload) to the complete answer, ms. */
  answeredAfter: number;
}

/** POSTs `pieces` pieces of the body, one every GAP_MS; `total` pieces are announced (more than sent: a stalled upload). */
async function upload(port: number, path: string, chunked: boolean, pieces = PIECES, total = pieces): Promise<Upload> {
  const conn = await Conn.open(port);
  try {
    const framing = chunked ? 'transfer-encoding: chunked' : `content-length: ${total * PIECE.length}`;
    conn.write(`POST ${path} HTTP/1.1\r\nhost: gw\r\ncontent-type: text/plain\r\n${framing}\r\n\r\n`);
    for (let i = 0; i < pieces; i++) {
      await sleep(GAP_MS);
      const last = i === pieces - 1 && pieces === total;
      conn.write(chunked ? `${PIECE.length.toString(16)}\r\n${PIECE}\r\n${last ? '0\r\n\r\n' : ''}` : PIECE);
    }
    const sentAt = performance.now();
    const r = await conn.response();
    return { ...r, answeredAfter: performance.now() - sentAt };
  } finally {
    conn.destroy();
  }
}

/** An h2c upstream with the same paths, answering `h2 done`. */
async function startH2(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    // The gateway resets the streams it gave up on.
    stream.on('error', () => undefined);
    stream.resume();
    stream.on('end', () => {
      // A stream the gateway already reset (its deadline fired first on a loaded machine) cannot be answered.
      if (stream.destroyed || stream.closed) return;
      if (String(headers[':path']).endsWith('/answer')) {
        stream.respond({ ':status': 200, 'content-length': '7' });
        stream.end('h2 done');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sessions) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An HTTP/1.1 upstream: `/answer` answers right after the last body byte with the byte count, `/stall` never answers. */
async function startH1(): Promise<{ port: number; close(): Promise<void> }> {
  const server = nodeHttp.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      if (req.url?.endsWith('/answer') === true) res.end(`got ${bytes}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function pipeline(client: Client, h1Port: number, h2Port: number): string {
  const pool =
    client === 'h2'
      ? `protocol: h2, servers: [{ url: "http://127.0.0.1:${h2Port}" }]`
      : `client: ${client}, servers: [{ url: "http://127.0.0.1:${h1Port}" }]`;
  return `---
kind: Pipeline
name: ${client}
filters: [{ name: proxy, kind: Proxy, mainPool: { ${pool}, timeout: ${TIMEOUT_MS}ms } }]`;
}

const expectedBody = (client: Client): string => (client === 'h2' ? 'h2 done' : `got ${PIECES * PIECE.length}`);

for (const engine of ['uws', 'node'] as const) {
  describe(`the upstream timeout starts once the upload is complete (engine: ${engine})`, { timeout: 60_000 }, () => {
    let h1: { port: number; close(): Promise<void> };
    let h2: { port: number; close(): Promise<void> };
    let gw: Gateway;
    let port: number;

    before(async () => {
      h1 = await startH1();
      h2 = await startH2();
      gw = await startGateway(`kind: HTTPServer
name: edge
engine: ${engine}
port: 0
address: 127.0.0.1
rules: [{ paths: [${clients.map((c) => `{ pathPrefix: /${c}/, backend: ${c} }`).join(', ')}] }]
${clients.map((c) => pipeline(c, h1.port, h2.port)).join('\n')}
`);
      port = gw.ports.get('edge') as number;
    });

    after(async () => {
      const code = await gw.stop();
      await h1.close();
      await h2.close();
      assert.equal(code, 0);
    });

    for (const client of clients) {
      for (const chunked of [false, true]) {
        const framing = chunked ? 'chunked' : 'content-length';
        it(`${client}, ${framing}: an upload longer than timeout gets the answer sent after its last byte`, async () => {
          const r = await upload(port, `/${client}/answer`, chunked);
          assert.equal(r.status, 200, r.body);
          assert.equal(r.body, expectedBody(client));
        });
      }

      it(`${client}: an upstream that stalls after the whole body still gets 504 after timeout`, async () => {
        const r = await upload(port, `/${client}/stall`, false);
        assert.equal(r.status, 504, r.body);
        assert.match(r.body, /NGATE_ERR_UPSTREAM_TIMEOUT/);
        // Counted from the last byte: not before `timeout` (a little slack for timer coarseness), and not much after.
        assert.ok(r.answeredAfter >= TIMEOUT_MS - 50, `answered ${Math.round(r.answeredAfter)} ms after the last byte`);
        assert.ok(r.answeredAfter < TIMEOUT_MS + 3_000, `answered ${Math.round(r.answeredAfter)} ms after the last byte`);
      });

      it(`${client}: an upload that stops making progress ends with 504 after timeout, it does not hang`, async () => {
        const r = await upload(port, `/${client}/answer`, false, 2, PIECES);
        assert.equal(r.status, 504, r.body);
        assert.match(r.body, /NGATE_ERR_UPSTREAM_TIMEOUT/);
        assert.ok(r.answeredAfter < TIMEOUT_MS + 3_000, `answered ${Math.round(r.answeredAfter)} ms after the last piece`);
      });
    }
  });
}
