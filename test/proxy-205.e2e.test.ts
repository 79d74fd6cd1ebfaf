import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { reply, startFaultUpstream, type FaultUpstream } from './helpers/fault-upstream';
import { startGateway, type Gateway } from './helpers/gateway';
import { openSocket, RawConn } from './helpers/raw-conn';

/**
 * A 205 has no content (RFC 9110 §15.3.6): an upstream 205 that carries a
 * body anyway reaches the client with none, and both the client connection
 * and the upstream one go on serving the next request.
 */

class Conn extends RawConn {
  static async open(port: number): Promise<Conn> {
    return new Conn(await openSocket(port));
  }

  /** Waits until `text` has arrived (or 3 s passed). */
  async seen(text: string): Promise<void> {
    await this.until(() => this.text.includes(text) || this.closed, 3_000);
  }
}

const BODIES = {
  length: 'HTTP/1.1 205 Reset Content\r\ncontent-length: 5\r\n\r\nhello',
  chunked: 'HTTP/1.1 205 Reset Content\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
} as const;

const clients = ['native', 'undici'] as const;

for (const engine of ['uws', 'node'] as const) {
  describe(`an upstream 205 with a body reaches the client without it (engine: ${engine})`, { timeout: 30_000 }, () => {
    let up: FaultUpstream;
    let gw: Gateway;
    let port: number;

    before(async () => {
      up = await startFaultUpstream((req) => {
        const framing = /\/205-(length|chunked)$/.exec(req.path)?.[1] as keyof typeof BODIES | undefined;
        return [['write', framing === undefined ? reply(200, `ok ${req.path}`) : BODIES[framing]]];
      });
      const pipelines = clients.map(
        (client) => `---
kind: Pipeline
name: ${client}
filters: [{ name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${up.url}" }], client: ${client} } }]`,
      );
      gw = await startGateway(`kind: HTTPServer
name: edge
engine: ${engine}
port: 0
address: 127.0.0.1
rules: [{ paths: [${clients.map((c) => `{ pathPrefix: /${c}/, backend: ${c} }`).join(', ')}] }]
${pipelines.join('\n')}
`);
      port = gw.ports.get('edge') as number;
    });

    after(async () => {
      const code = await gw.stop();
      await up.close();
      assert.equal(code, 0);
    });

    for (const client of clients) {
      for (const framing of ['length', 'chunked'] as const) {
        it(`client ${client}, body ${framing}: 205 with no content, then the next request on both connections`, async () => {
          const conn = await Conn.open(port);
          try {
            const before = up.received.length;
            conn.write(`GET /${client}/205-${framing} HTTP/1.1\r\nhost: gw\r\n\r\n`);
            await conn.seen('\r\n\r\n');
            conn.write(`GET /${client}/next HTTP/1.1\r\nhost: gw\r\n\r\n`);
            await conn.seen(`ok /${client}/next`);
            const text = conn.text;
            const headEnd = text.indexOf('\r\n\r\n') + 4;
            const head = text.slice(0, headEnd);
            assert.match(head, /^HTTP\/1\.1 205 /);
            assert.doesNotMatch(head, /\r\ntransfer-encoding:/i);
            const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
            assert.ok(length === undefined || length === '0', `content-length ${length ?? ''}`);
            // The next answer starts right after the 205's head: no content in between.
            assert.match(text.slice(headEnd), /^HTTP\/1\.1 200 /, JSON.stringify(text));
            assert.ok(!text.includes('hello'), JSON.stringify(text));
            assert.ok(text.endsWith(`ok /${client}/next`), JSON.stringify(text));
            assert.equal(conn.closed, false);
            const mine = up.received.slice(before);
            assert.deepEqual(
              mine.map((q) => q.path),
              [`/${client}/205-${framing}`, `/${client}/next`],
            );
            assert.equal(mine[1]?.conn, mine[0]?.conn, 'the 205 body was read off the upstream connection, which is reused');
          } finally {
            conn.destroy();
          }
        });
      }
    }
  });
}
