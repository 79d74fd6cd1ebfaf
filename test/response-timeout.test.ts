import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import * as nodeHttp from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UndiciPool } from '../src/dataplane/upstream/undici-pool';
import { startBackend, type Backend } from './helpers/backends';
import { startH2Backend, type H2Backend } from './helpers/h2-backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { eventually, readStats } from './helpers/admin';
import { DeadlineDispatcher } from '../src/dataplane/upstream/response-deadline';

const TIMEOUT_MS = 600;
const CHUNK = 'x'.repeat(10);
/** The trickle: a chunk every timeout/3 for 2 s (well past the timeout). */
const TRICKLE_CHUNKS = 10;
const TRICKLE_EVERY = 200;
const TRICKLE_BYTES = TRICKLE_CHUNKS * CHUNK.length;
/** The steady response: 1 MiB in 64 KiB writes, as fast as the socket takes it. */
const STEADY_BYTES = 1 << 20;
const STEADY_PIECE = Buffer.alloc(64 * 1024, 'y');

interface Outcome {
  status: number;
  bytes: number;
  /** The response ended with its last byte as framed (chunked terminator or full length). */
  complete: boolean;
}

/** A GET on a keep-alive-free connection; resolves however the response ends (cut off included). */
function get(url: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = nodeHttp.get(url, { agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('error', () => undefined); // 'aborted': the outcome says it
      res.on('close', () => resolve({ status: res.statusCode ?? 0, bytes, complete: res.complete }));
    });
    req.on('error', reject);
  });
}

/** Counts how the h1 backend's trickled responses ended and which sockets served the steady ones. */
interface H1Log {
  cutOff: number;
  steadySockets: unknown[];
}

function h1Handler(log: H1Log) {
  return (req: nodeHttp.IncomingMessage, res: nodeHttp.ServerResponse): void => {
    res.setHeader('content-type', 'text/plain');
    if (req.url?.endsWith('/steady') === true) {
      log.steadySockets.push(req.socket);
      res.setHeader('content-length', STEADY_BYTES);
      for (let sent = 0; sent < STEADY_BYTES; sent += STEADY_PIECE.length) res.write(STEADY_PIECE);
      res.end();
      return;
    }
    // Head at once, then a chunk every TRICKLE_EVERY: chunked, the client can tell a cut-off body.
    res.writeHead(200);
    res.flushHeaders();
    let sent = 0;
    const timer = setInterval(() => {
      res.write(CHUNK);
      if (++sent === TRICKLE_CHUNKS) {
        clearInterval(timer);
        res.end();
      }
    }, TRICKLE_EVERY);
    res.on('close', () => {
      clearInterval(timer);
      if (!res.writableFinished) log.cutOff++;
    });
  };
}

interface H2Log {
  cutOff: number;
}

function h2Handler(log: H2Log) {
  return (stream: ServerHttp2Stream, headers: Record<string, string | string[] | undefined>): void => {
    if (headers[':path'] === '/h2/steady') {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': String(STEADY_BYTES) });
      for (let sent = 0; sent < STEADY_BYTES; sent += STEADY_PIECE.length) stream.write(STEADY_PIECE);
      stream.end();
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    let sent = 0;
    const timer = setInterval(() => {
      stream.write(CHUNK);
      if (++sent === TRICKLE_CHUNKS) {
        clearInterval(timer);
        stream.end();
      }
    }, TRICKLE_EVERY);
    // RST_STREAM from the gateway: 'aborted' (the writable side counts as finished once the stream closes).
    stream.on('aborted', () => log.cutOff++);
    stream.on('close', () => clearInterval(timer));
  };
}

function pipeline(name: string, pool: string, timeout = `${TIMEOUT_MS}ms`): string {
  return `---
kind: Pipeline
name: ${name}
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      serviceName: ${name}
      timeout: ${timeout}
${pool
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}
`;
}

describe('pool timeout bounds the whole response (head and body)', { timeout: 60_000 }, () => {
  const h1Log: H1Log = { cutOff: 0, steadySockets: [] };
  const h2Log: H2Log = { cutOff: 0 };
  let h1: Backend;
  let h2: H2Backend;
  let gw: Gateway;
  let logFile: string;

  before(async () => {
    h1 = await startBackend(1, h1Handler(h1Log));
    h2 = await startH2Backend('h2', '127.0.0.1', 0, h2Handler(h2Log));
    logFile = path.join(mkdtempSync(path.join(tmpdir(), 'ngate-rtimeout-')), 'access.log');
    gw = await startGateway(
      `kind: HTTPServer
name: front
port: 0
address: 127.0.0.1
accessLog: { path: ${logFile}, format: json }
rules:
  - paths:
      - pathPrefix: /native
        backend: native
      - pathPrefix: /undici
        backend: undici
      - pathPrefix: /h2
        backend: h2
      - pathPrefix: /unbounded-native
        backend: unbounded-native
      - pathPrefix: /unbounded-undici
        backend: unbounded-undici
      - pathPrefix: /unbounded-h2
        backend: unbounded-h2
${pipeline('native', `client: native\nservers: [{ url: ${h1.url} }]`)}${pipeline('undici', `client: undici\nservers: [{ url: ${h1.url} }]`)}${pipeline(
        'h2',
        `protocol: h2\nservers: [{ url: http://127.0.0.1:${h2.port} }]`,
      )}${pipeline('unbounded-native', `client: native\nservers: [{ url: ${h1.url} }]`, '0s')}${pipeline(
        'unbounded-undici',
        `client: undici\nservers: [{ url: ${h1.url} }]`,
        '0s',
      )}${pipeline('unbounded-h2', `protocol: h2\nservers: [{ url: http://127.0.0.1:${h2.port} }]`, '0s')}`,
      { workers: 1 },
    );
  });

  after(async () => {
    assert.equal(await gw.stop(), 0);
    await h1.close();
    await h2.close();
  });

  async function timeouts(service: string): Promise<number> {
    return Number((await readStats(gw.admin)).get(`cluster.${service}.upstream_rq_timeout`) ?? 0);
  }

  function accessErrors(prefix: string): (string | null)[] {
    if (!existsSync(logFile)) return [];
    return readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { path: string; error: string | null })
      .filter((r) => r.path === `${prefix}/trickle`)
      .map((r) => r.error);
  }

  it('timeout 0 is no whole-response limit: the trickled body arrives whole on every client', async () => {
    const outcomes = await Promise.all(['native', 'undici', 'h2'].map((client) => get(gw.url('front', `/unbounded-${client}/trickle`))));
    for (const r of outcomes) assert.deepEqual(r, { status: 200, bytes: TRICKLE_BYTES, complete: true });
  });

  for (const client of ['native', 'undici', 'h2'] as const) {
    it(`${client}: a body trickled past the timeout is cut off, counted and logged as a timeout`, async () => {
      const before = await timeouts(client);
      const cutBefore = client === 'h2' ? h2Log.cutOff : h1Log.cutOff;
      const r = await get(gw.url('front', `/${client}/trickle`));
      assert.equal(r.status, 200, 'the head went out at once');
      assert.equal(r.complete, false, 'the response ended abnormally');
      assert.ok(r.bytes < TRICKLE_BYTES, `cut before the backend finished (${r.bytes} of ${TRICKLE_BYTES} bytes)`);
      // The upstream side was closed (h1: the connection; h2: the stream, RST_STREAM) before the backend finished.
      await eventually(async () => ((client === 'h2' ? h2Log.cutOff : h1Log.cutOff) > cutBefore ? true : undefined), 5_000, 'the upstream cut off');
      await eventually(async () => ((await timeouts(client)) === before + 1 ? true : undefined), 5_000, 'upstream_rq_timeout + 1');
      const errors = await eventually(async () => {
        const e = accessErrors(`/${client}`);
        return e.length > 0 ? e : undefined;
      }, 5_000, 'the access log line');
      assert.deepEqual(errors, ['NGATE_ERR_UPSTREAM_TIMEOUT']);
    });

    it(`${client}: a large steady response within the timeout is whole, and its connection is reused`, async () => {
      const socketsBefore = h1Log.steadySockets.length;
      const sessionsBefore = h2.sessions;
      const before = await timeouts(client);
      for (let i = 0; i < 2; i++) {
        const r = await get(gw.url('front', `/${client}/steady`));
        assert.deepEqual(r, { status: 200, bytes: STEADY_BYTES, complete: true });
      }
      if (client === 'h2') assert.equal(h2.sessions, sessionsBefore, 'the h2 session carried both');
      else {
        const [a, b] = h1Log.steadySockets.slice(socketsBefore);
        assert.ok(a !== undefined && a === b, 'the kept-alive upstream connection carried both');
      }
      assert.equal(await timeouts(client), before);
    });
  }
});

describe('DeadlineDispatcher bounds the mirror path too', () => {
  const log: H1Log = { cutOff: 0, steadySockets: [] };
  let backend: Backend;
  before(async () => {
    backend = await startBackend(3, h1Handler(log));
  });
  after(async () => {
    await backend.close();
  });

  it('a mirror copy trickled past the timeout is cut off and its body drain ends', async () => {
    const pool = new UndiciPool(backend.url, { connections: 1 });
    try {
      const res = await new DeadlineDispatcher(pool, TIMEOUT_MS).request({ method: 'GET', path: '/trickle' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      await eventually(async () => (log.cutOff === 1 ? true : undefined), 5_000, 'the upstream cut off');
    } finally {
      await pool.close();
    }
  });
});

describe('DeadlineDispatcher leaves no timer behind', () => {
  let backend: Backend;
  before(async () => {
    backend = await startBackend(2);
  });
  after(async () => {
    await backend.close();
  });

  it('clears the timer of every request that completed', async () => {
    const live = new Set<number>();
    const hook = createHook({
      init(id, type, _trigger, resource) {
        if (type === 'Timeout' && (resource as { _onTimeout?: { name?: string } })._onTimeout?.name === 'expire') live.add(id);
      },
      destroy(id) {
        live.delete(id);
      },
    }).enable();
    const pool = new UndiciPool(backend.url, { connections: 4 });
    const dispatcher = new DeadlineDispatcher(pool, 60_000);
    try {
      let started = 0;
      await Promise.all(
        Array.from({ length: 200 }, () =>
          new Promise<void>((resolve, reject) => {
            dispatcher.dispatch(
              { method: 'GET', path: '/', origin: backend.url },
              {
                onRequestStart: () => started++,
                onResponseData: () => undefined,
                onResponseEnd: () => resolve(),
                onResponseError: (_c, err) => reject(err),
              },
            );
          }),
        ),
      );
      assert.equal(started, 200);
      // Destroy hooks of cleared timers run on a later turn.
      await eventually(async () => (live.size === 0 ? true : undefined), 2_000, `no live deadline timers (${live.size})`);
    } finally {
      hook.disable();
      await pool.close();
    }
  });
});
