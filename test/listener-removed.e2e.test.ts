import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

/** Reads from `socket` until `done(text)` holds or the socket ends; returns what arrived. */
async function readUntil(socket: net.Socket, done: (text: string) => boolean): Promise<{ text: string; ended: boolean }> {
  let text = '';
  let ended = false;
  await new Promise<void>((resolve) => {
    const onData = (c: Buffer): void => {
      text += c.toString('latin1');
      if (done(text)) finish();
    };
    const onEnd = (): void => {
      ended = true;
      finish();
    };
    const finish = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      resolve();
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
  });
  return { text, ended };
}

const wholeResponse = (text: string): boolean => {
  const head = text.indexOf('\r\n\r\n');
  if (head < 0) return false;
  const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, head));
  return length !== null && text.length >= head + 4 + Number(length[1]);
};

for (const engine of ['uws', 'node'] as const) {
  describe(`a request on a kept-alive connection of a removed listener (engine: ${engine})`, { timeout: 20_000 }, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway(
        `kind: HTTPServer
name: stays
port: 0
engine: ${engine}
rules: [{ paths: [{ pathPrefix: /, backend: answer }] }]
---
kind: HTTPServer
name: goes
port: 0
engine: ${engine}
rules: [{ paths: [{ pathPrefix: /, backend: answer }] }]
---
kind: Pipeline
name: answer
filters: [{ name: m, kind: Mock, rules: [{ body: "ok" }] }]
`,
        { workers: 1 },
      );
    });
    after(async () => {
      assert.equal(await gw.stop(), 0);
    });

    it(engine === 'uws' ? 'the next request gets 503 NGATE_ERR_LISTENER_REMOVED with Connection: close, and the connection closes' : 'the idle connection is closed as the listener goes', async () => {
      const socket = net.connect(gw.ports.get('goes') ?? 0, '127.0.0.1');
      await once(socket, 'connect');
      const closed = once(socket, 'close');
      try {
        socket.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\n');
        const first = await readUntil(socket, wholeResponse);
        assert.match(first.text, /^HTTP\/1\.1 200/);
        const del = await http(`${gw.admin}/apis/v2/objects/goes`, { method: 'DELETE' });
        assert.equal(del.status, 200, del.body);
        if (engine === 'node') {
          // node's server closes its idle connections when it stops listening.
          await closed;
        } else {
          // uWS cannot close idle connections of one listener: the next request is answered, then the connection closes.
          socket.write('GET /two HTTP/1.1\r\nHost: x\r\n\r\n');
          const second = await readUntil(socket, () => false);
          assert.match(second.text, /^HTTP\/1\.1 503/);
          assert.match(second.text, /\r\nconnection: close\r\n/i);
          assert.match(second.text, /"code":"NGATE_ERR_LISTENER_REMOVED"/);
          assert.ok(second.ended, 'the connection closed after the answer');
        }
        // The other listener serves on.
        assert.equal((await http(gw.url('stays', '/'))).body, 'ok');
      } finally {
        socket.destroy();
      }
    });
  });
}
