import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { frontServer, poolPipeline, serverList } from './helpers/pipelines';
import { eventually } from './helpers/admin';

/**
 * A streamed upload to an HTTP/2 upstream that ngate stops half-way (body
 * over clientMaxBodySize, client gone) must cost that one request only: the
 * engine keeps serving, does not restart and its memory stays bounded.
 */

const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const CHUNK_FRAME = Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')]);

function config(engine: string, upstreamPort: number): string {
  return `${frontServer(`engine: ${engine}\nclientMaxBodySize: 256k\n`)}---
${frontServer(`engine: ${engine}\nclientMaxBodySize: 64m\n`, { name: 'big' })}---
${poolPipeline(`      serviceName: h2up
      protocol: h2
${serverList([`http://127.0.0.1:${upstreamPort}`])}`)}`;
}

interface Upstream {
  port: number;
  /** Request body bytes received, all streams. */
  received: number;
  close(): Promise<void>;
}

/** An h2c upstream that reads each body to the end and answers with its length (/early: answers at once). */
async function startUpstream(): Promise<Upstream> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  const up: Upstream = {
    port: 0,
    received: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    let n = 0;
    stream.on('error', () => undefined);
    if (headers[':path'] === '/early') {
      // Answers before reading the body, as an upstream refusing an upload does.
      stream.respond({ ':status': 200 });
      stream.end('early');
      return;
    }
    stream.on('data', (c: Buffer) => {
      n += c.length;
      up.received += c.length;
    });
    stream.on('end', () => {
      if (stream.destroyed || stream.closed) return;
      stream.respond({ ':status': 200 });
      stream.end(`got ${n}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  up.port = (server.address() as AddressInfo).port;
  return up;
}

interface Upload {
  readonly socket: net.Socket;
  /** All the gateway sent back, once the connection closed. */
  readonly response: Promise<string>;
  /** What the gateway sent back so far. */
  text(): string;
  /** Writes `chunks` more 64 KiB chunks as fast as the socket takes them. */
  send(chunks: number): void;
  /** Writes the last-chunk. */
  finish(): void;
}

/** A chunked POST whose body the test writes in steps. */
function upload(port: number, path = '/up'): Upload {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  const response = new Promise<string>((resolve) => socket.on('close', () => resolve(text)));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n`);
  let left = 0;
  let finishing = false;
  const pump = (): void => {
    while (left > 0 && !socket.destroyed) {
      left--;
      if (!socket.write(CHUNK_FRAME)) {
        socket.once('drain', pump);
        return;
      }
    }
    if (finishing && !socket.destroyed) socket.write('0\r\n\r\n');
  };
  return {
    socket,
    response,
    text: () => text,
    send: (chunks) => {
      const idle = left === 0;
      left += chunks;
      if (idle) pump();
    },
    finish: () => {
      finishing = true;
      if (left === 0) pump();
    },
  };
}

function readyCount(gw: Gateway): number {
  return gw.logs().match(/ngate ready/g)?.length ?? 0;
}

/** The engine's resident memory in MiB, read from /proc (undefined where there is none). */
function engineRssMiB(gw: Gateway): number | undefined {
  const pid = /ngate ready pid=(\d+)/.exec(gw.logs())?.[1];
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** A plain request still gets its answer, within a bounded time. */
async function stillServes(gw: Gateway, server: string): Promise<void> {
  const r = await fetch(gw.url(server, '/after'), { method: 'POST', body: 'small', signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'got 5');
}

function assertHealthy(gw: Gateway, ready: number): void {
  assert.doesNotMatch(gw.logs(), /engine died/);
  assert.equal(readyCount(gw), ready, 'the engine did not restart');
  const rss = engineRssMiB(gw);
  if (rss !== undefined) assert.ok(rss < 512, `engine RSS ${Math.round(rss)} MiB`);
}

for (const engine of ['uws', 'node']) {
  describe(`streamed upload to an h2 upstream, stopped half-way (engine ${engine})`, () => {
    let up: Upstream;
    let gw: Gateway;
    before(async () => {
      up = await startUpstream();
      gw = await startGateway(config(engine, up.port), { workers: 1 });
    });
    after(async () => {
      // A wedged worker would not drain: stop() must still end the engine.
      assert.equal(await gw.stop(), 0);
      await up.close();
    });

    it('answers 413 to a chunked body over clientMaxBodySize and keeps serving', async () => {
      // A live upstream connection, so the upload streams out before it breaks the limit.
      await stillServes(gw, 'front');
      const ready = readyCount(gw);
      const from = up.received;
      const u = upload(gw.ports.get('front') as number);
      u.send(2);
      await eventually(async () => (up.received > from ? true : undefined), 5000, 'the upload reaching the upstream');
      // Just past the 256k limit, then the client waits for the answer: one that keeps uploading
      // after it may get a reset instead on uWS, which closes without a lingering close
      // (docs/limits.md; h2-upstream-early-answer.e2e.test.ts holds that as a todo).
      u.send(3);
      // Bounded (a hang fails), generous for a loaded machine; what arrived so far is what the assertion shows.
      const text = await Promise.race([u.response, new Promise<string>((resolve) => setTimeout(() => resolve(u.text()), 15_000).unref())]);
      u.socket.destroy();
      assert.match(text, /^HTTP\/1\.1 413 /);
      await stillServes(gw, 'front');
      assertHealthy(gw, ready);
    });

    it('survives a client that goes away mid-upload', async () => {
      await stillServes(gw, 'big');
      const ready = readyCount(gw);
      const from = up.received;
      const u = upload(gw.ports.get('big') as number);
      // Far more than gets through before the client leaves: the gateway still has DATA to write.
      u.send(512);
      await eventually(async () => (up.received - from >= 1024 * 1024 ? true : undefined), 5000, 'the upload streaming to the upstream');
      u.socket.destroy();
      await stillServes(gw, 'big');
      assertHealthy(gw, ready);
    });
  });
}
