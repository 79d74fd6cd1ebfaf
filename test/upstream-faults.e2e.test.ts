import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { reply, startBlackhole, startFaultUpstream, type FaultUpstream, type Script } from './helpers/fault-upstream';
import { startGateway, type Gateway } from './helpers/gateway';
import { http, type Reply } from './helpers/http';
import { refusingPort, rawRequest } from './helpers/raw';

interface Env {
  readonly gw: Gateway;
  readonly up: FaultUpstream;
  /** GET (or `method`) on this scenario's route, over a fresh client connection; `signal` bounds the wait. */
  get(path?: string, method?: string, body?: string, signal?: AbortSignal): Promise<Reply>;
  /** The raw client view of one request on this scenario's route. */
  raw(path?: string): ReturnType<typeof rawRequest>;
}

interface Scenario {
  readonly name: string;
  /** Extra pool keys (YAML flow map entries). */
  readonly pool?: string;
  readonly script: Script;
  /** Instead of the scripted upstream (refused, connect timeout). */
  readonly target?: () => Promise<{ url: string; close(): Promise<void> }>;
  check(env: Env): Promise<void>;
}

let lateSent: () => void = () => undefined;
const lateWritten = new Promise<void>((resolve) => (lateSent = resolve));
const ok: Script = (req) => [['write', reply(200, `ok ${req.method} ${req.path}`)]];
const HEAD_200_CL10 = 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n';

function assertGatewayError(r: Reply, status: number, code: string): void {
  assert.equal(r.status, status, r.body);
  assert.match(r.body, new RegExp(code));
}

/** An upstream that answers every request after the first on a fresh socket, so reuse shows in `conn`. */
function firstThen(first: Script, rest: Script = ok): Script {
  return (req, i) => (i === 0 ? first(req, i) : rest(req, i));
}

/** The head and a first chunk-size line that is no hex number, in one write; `/after` gets a good answer. */
const badFirstChunk: Script = (req, i) =>
  req.path.endsWith('/after') ? ok(req, i) : [['write', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-up: 1\r\n\r\nzz\r\n']];

const clients = ['native', 'undici'] as const;

/** Answers the first request of each connection (after a pause, so concurrent ones open their own); closes on any later one. */
function closesReused(): Script {
  const served = new Set<number>();
  return (req, i) => {
    if (served.has(req.conn)) return [['end']];
    served.add(req.conn);
    return [['wait', 100], ...ok(req, i)];
  };
}

/** Status lines and heads no HTTP/1.1 client may accept (the requests after them start the list over). */
const BAD_STATUS_LINES = [
  'HTTP/1.1 abc OK\r\n\r\n',
  'HTTP/1.1 2000 OK\r\ncontent-length: 0\r\n\r\n',
  'garbage\r\n\r\n',
  'HTTP/9 200 OK\r\n\r\n',
  'HTTP/1.1 2OO OK\r\ncontent-length: 2\r\n\r\nok',
  'HTTP/1.1 2OO OK\r\n',
  'HTTP/1.1 200 OK\r\nbad header line\r\n\r\n',
  '\x00\x01\x02 binary\r\n\r\n',
];

/** Requests per burst and bursts for the stale keep-alive scenarios. */
const BURST = 8;
const BURSTS = 15;

const scenarios: Scenario[] = [
  {
    name: 'refused',
    script: ok,
    target: async () => ({ url: `http://127.0.0.1:${await refusingPort()}`, close: async () => undefined }),
    check: async ({ get }) => assertGatewayError(await get(), 502, 'NGATE_ERR_UPSTREAM_CONNECT'),
  },
  {
    name: 'connect-timeout',
    pool: 'connectTimeout: 300ms',
    script: ok,
    target: async () => {
      const hole = await startBlackhole();
      return { url: `http://127.0.0.1:${hole.port}`, close: () => hole.close() };
    },
    check: async ({ get }) => {
      const started = Date.now();
      assertGatewayError(await get(), 504, 'NGATE_ERR_UPSTREAM_CONNECT_TIMEOUT');
      assert.ok(Date.now() - started < 3_000, 'answered at the connect timeout, not at a TCP retry limit');
    },
  },
  {
    name: 'reset-before-first-byte',
    script: () => [['reset']],
    check: async ({ get, up }) => {
      assertGatewayError(await get('/', 'POST', 'payload'), 502, 'NGATE_ERR_UPSTREAM_RESET');
      assert.equal(up.received.length, 1, 'a POST reaches the upstream once');
      assertGatewayError(await get(), 502, 'NGATE_ERR_UPSTREAM_RESET');
    },
  },
  {
    name: 'reset-mid-body',
    script: () => [['write', `${HEAD_200_CL10}hello`], ['reset']],
    check: async ({ raw }) => {
      const r = await raw();
      assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.ok(r.text.endsWith('\r\n\r\nhello'), JSON.stringify(r.text));
      assert.match(r.text, /content-length: 10/i, 'the announced length stays, so the client sees the cut');
      assert.equal(r.closed, true);
    },
  },
  {
    name: 'fin-mid-body',
    script: () => [['write', `${HEAD_200_CL10}hello`], ['end']],
    check: async ({ raw, get }) => {
      const r = await raw();
      assert.ok(r.text.endsWith('\r\n\r\nhello'), JSON.stringify(r.text));
      assert.equal(r.closed, true);
      await assert.rejects(get(), 'a client library sees an incomplete body, never a clean end');
    },
  },
  {
    name: 'chunked-cut-off',
    script: () => [['write', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n'], ['wait', 50], ['end']],
    check: async ({ raw, get }) => {
      const r = await raw();
      assert.match(r.text, /transfer-encoding: chunked/i);
      assert.match(r.text, /hello/);
      assert.ok(!r.text.endsWith('0\r\n\r\n'), 'no terminating chunk');
      assert.equal(r.closed, true);
      await assert.rejects(get());
    },
  },
  ...clients.map(
    (client): Scenario => ({
      // The head and a malformed first chunk-size line in one read: the error comes before the listener wrote anything.
      name: `bad-first-chunk-${client}`,
      pool: `client: ${client}`,
      script: badFirstChunk,
      check: async ({ get, raw }) => {
        const r = await get();
        assertGatewayError(r, 502, 'NGATE_ERR_UPSTREAM_PROTOCOL');
        assert.equal(r.headers['x-up'], undefined, "none of the upstream's headers");
        const wire = await raw('/raw');
        assert.match(wire.text, /^HTTP\/1\.1 502 /, JSON.stringify(wire.text));
        assert.equal((await get('/after')).body, `ok GET /bad-first-chunk-${client}/after`);
      },
    }),
  ),
  {
    name: 'late-response',
    pool: 'timeout: 300ms, maxConnectionsPerWorker: 1',
    // undici checks response timeouts on a ~0.5 s tick, so the late answer comes well after any tick.
    script: (req, i) => (i === 0 ? [['wait', 2_000], ['write', reply(200, 'late')], ['signal', lateSent]] : ok(req, i)),
    check: async ({ get, up }) => {
      const started = Date.now();
      assertGatewayError(await get('/first'), 504, 'NGATE_ERR_UPSTREAM_TIMEOUT');
      assert.ok(Date.now() - started < 1_800, 'answered at the timeout, before the late response');
      const next = await get('/second');
      assert.equal(next.status, 200);
      assert.equal(next.body, 'ok GET /late-response/second');
      // Once the late answer was written, it must not surface on a later request either.
      await lateWritten;
      assert.equal((await get('/third')).body, 'ok GET /late-response/third');
      assert.ok(up.received.every((r, i) => i === 0 || r.conn !== up.received[0]?.conn), 'the timed-out socket was not reused');
    },
  },
  ...clients.map(
    (client): Scenario => ({
      // Malformed first bytes: nothing went downstream yet, so the client gets ngate's 502, whichever upstream client read them.
      name: `invalid-status-line-${client}`,
      pool: `client: ${client}`,
      script: (req, i) => (req.path.endsWith('/after') ? ok(req, i) : [['write', BAD_STATUS_LINES[i % BAD_STATUS_LINES.length] as string]]),
      check: async ({ get, raw }) => {
        for (let i = 0; i < BAD_STATUS_LINES.length; i++) assertGatewayError(await get(`/${i}`), 502, 'NGATE_ERR_UPSTREAM_PROTOCOL');
        assert.equal((await get('/after')).body, `ok GET /invalid-status-line-${client}/after`);
        const wire = await raw('/raw');
        assert.match(wire.text, /^HTTP\/1\.1 502 /, JSON.stringify(wire.text));
      },
    }),
  ),
  {
    // Bare LF line endings never end the head with CRLFCRLF: refused as soon as seen, not at the 20 s timeout.
    name: 'bare-lf-head',
    pool: 'timeout: 20s',
    script: firstThen(() => [['write', 'HTTP/1.1 200 OK\ncontent-length: 3\n\nok\n']]),
    check: async ({ get, up }) => {
      assertGatewayError(await get('/', 'GET', undefined, AbortSignal.timeout(5_000)), 502, 'NGATE_ERR_UPSTREAM_PROTOCOL');
      assert.equal((await get('/after', 'GET', undefined, AbortSignal.timeout(5_000))).body, 'ok GET /bare-lf-head/after');
      assert.notEqual(up.received[1]?.conn, up.received[0]?.conn, 'the socket is not reused');
    },
  },
  {
    // The head starts and stalls: the timeout is a headers timeout, whatever part of it arrived.
    name: 'head-never-completes',
    pool: 'timeout: 300ms',
    script: firstThen(() => [['write', 'HTTP/1.1 200 OK\r\ncontent-']]),
    check: async ({ get }) => {
      const r = await get('/', 'GET', undefined, AbortSignal.timeout(10_000));
      assertGatewayError(r, 504, 'NGATE_ERR_UPSTREAM_TIMEOUT');
      assert.match(r.body, /headers timeout/);
      assert.equal((await get('/after')).body, 'ok GET /head-never-completes/after');
    },
  },
  {
    name: 'oversized-headers',
    script: firstThen(() => [['write', `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(70_000)}\r\ncontent-length: 0\r\n\r\n`]]),
    check: async ({ get }) => {
      assertGatewayError(await get(), 502, 'NGATE_ERR_UPSTREAM_PROTOCOL');
      assert.equal((await get('/after')).status, 200);
    },
  },
  {
    name: 'cl-and-te',
    script: firstThen(() => [['write', 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n']]),
    check: async ({ get, up }) => {
      assertGatewayError(await get(), 502, 'NGATE_ERR_UPSTREAM_PROTOCOL');
      assert.equal((await get('/after')).body, 'ok GET /cl-and-te/after');
      assert.notEqual(up.received[1]?.conn, up.received[0]?.conn, 'the socket is not reused');
    },
  },
  {
    name: 'two-lengths',
    script: firstThen(() => [['write', 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 5\r\n\r\nabcde']]),
    check: async ({ get, up }) => {
      assertGatewayError(await get(), 502, 'NGATE_ERR_UPSTREAM_PROTOCOL');
      assert.equal((await get('/after')).body, 'ok GET /two-lengths/after');
      assert.notEqual(up.received[1]?.conn, up.received[0]?.conn, 'the socket is not reused');
    },
  },
  {
    name: 'informational',
    script: (req) => [
      ['write', 'HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n'],
      ['write', 'HTTP/1.1 102 Processing\r\n\r\n'],
      ['write', reply(200, `final ${req.path}`)],
    ],
    check: async ({ get, raw }) => {
      const r = await get('/x');
      assert.equal(r.status, 200);
      assert.equal(r.body, 'final /informational/x');
      const wire = await raw('/y');
      assert.match(wire.text, /^HTTP\/1\.1 200 OK\r\n/, 'the interim responses are not forwarded as the final one');
      assert.equal(wire.text.split('HTTP/1.1').length, 2, 'exactly one response on the wire');
    },
  },
  {
    // undici refuses a 100 Continue the request did not ask for (ngate never forwards Expect): a documented 502.
    name: 'unsolicited-100',
    script: firstThen((req) => [['write', `HTTP/1.1 100 Continue\r\n\r\n${reply(200, `final ${req.path}`)}`]]),
    check: async ({ get, up }) => {
      assertGatewayError(await get(), 502, 'NGATE_ERR_UPSTREAM_PROTOCOL');
      assert.equal((await get('/after')).body, 'ok GET /unsolicited-100/after');
      assert.notEqual(up.received[1]?.conn, up.received[0]?.conn, 'the socket is not reused');
    },
  },
  ...(
    [
      ['204', 'GET', 'HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\nhello'],
      ['304', 'GET', 'HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\nhello'],
      ['head', 'HEAD', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello'],
    ] as const
  ).map(
    ([name, method, bytes]): Scenario => ({
      name: `bodyless-${name}`,
      script: firstThen(() => [['write', bytes]]),
      check: async ({ get, up, gw }) => {
        const r = await get('/', method);
        assert.equal(r.status, name === 'head' ? 200 : Number(name));
        assert.equal(r.body, '', 'no body forwarded');
        if (method === 'HEAD') assert.equal(r.headers['content-length'], '5');
        const raw = await rawRequest(gw.ports.get('edge') as number, `${method} /bodyless-${name}/raw HTTP/1.1\r\nhost: x\r\n\r\n`);
        assert.ok(!raw.text.includes('hello'), JSON.stringify(raw.text));
        const next = await get('/after');
        assert.equal(next.body, `ok GET /bodyless-${name}/after`);
        const afterFirst = up.received.slice(1);
        assert.ok(afterFirst.every((q) => q.conn !== up.received[0]?.conn), 'the socket that carried the stray body is discarded');
      },
    }),
  ),
  {
    name: 'extra-bytes',
    script: firstThen(() => [['write', `${reply(200, 'ok')}HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstray`]]),
    check: async ({ get, up }) => {
      assert.equal((await get()).body, 'ok');
      const next = await get('/after');
      assert.equal(next.body, 'ok GET /extra-bytes/after', 'the stray bytes never answer another request');
      assert.notEqual(up.received[1]?.conn, up.received[0]?.conn);
    },
  },
  ...clients.flatMap((client): Scenario[] => [
    {
      // Every connection closes (FIN, no `connection: close`) right after its answer: bursts keep landing on sockets the
      // upstream just closed. A GET that met one is sent again on a new connection, once, and succeeds.
      name: `keepalive-closed-after-each-${client}`,
      pool: `client: ${client}, maxConnectionsPerWorker: 4`,
      script: (req) => [['write', reply(200, `ok ${req.method} ${req.path}`)], ['end']],
      check: async ({ get, up }) => {
        for (let b = 0; b < BURSTS; b++) {
          const replies = await Promise.all(Array.from({ length: BURST }, (_, i) => get(`/${b}-${i}`)));
          for (const [i, r] of replies.entries()) assert.equal(r.status, 200, `burst ${b} request ${i}: ${r.body}`);
        }
        const sent = new Map<string, number>();
        for (const q of up.received) sent.set(q.path, (sent.get(q.path) ?? 0) + 1);
        assert.ok([...sent.values()].every((n) => n <= 2), 'each request reached the upstream at most twice');
      },
    },
    {
      // Two warm connections, both closed by the upstream as a request arrives on them again: the resend must not take
      // the other idle one (just as stale) but a new connection.
      name: `keepalive-closed-on-reuse-twice-${client}`,
      pool: `client: ${client}`,
      script: closesReused(),
      check: async ({ get, up }) => {
        const warm = await Promise.all([get('/warm-a'), get('/warm-b')]);
        assert.deepEqual(warm.map((r) => r.status), [200, 200]);
        assert.equal(up.connections(), 2, 'two warm connections');
        const r = await get('/again');
        assert.equal(r.status, 200, r.body);
        assert.equal(r.body, `ok GET /keepalive-closed-on-reuse-twice-${client}/again`);
        const again = up.received.filter((q) => q.path.endsWith('/again'));
        assert.equal(again.length, 2, 'sent once more, not twice');
        assert.ok((again[1]?.conn ?? 0) >= 2, 'the resend went on a new connection');
      },
    },
    {
      name: `keepalive-closed-on-reuse-${client}`,
      pool: `client: ${client}`,
      // Connection 0 answers its first request, then closes as the next one arrives on it.
      script: (req, i) => (req.conn === 0 && i > 0 ? [['end']] : ok(req, i)),
      check: async ({ get, up }) => {
        assert.equal((await get('/warm')).status, 200);
        const r = await get('/again');
        assert.equal(r.status, 200, 'an idempotent request is retried on a fresh connection');
        assert.equal(r.body, `ok GET /keepalive-closed-on-reuse-${client}/again`);
        const again = up.received.filter((q) => q.path.endsWith('/again'));
        assert.equal(again.length, 2, 'retried once');
        assert.notEqual(again[1]?.conn, again[0]?.conn, 'on another connection');
      },
    },
  ]),
  ...clients.map(
    (client): Scenario => ({
      name: `keepalive-closed-on-reuse-post-${client}`,
      pool: `client: ${client}`,
      script: (req, i) => (req.conn === 0 && i > 0 ? [['end']] : ok(req, i)),
      check: async ({ get, up }) => {
        assert.equal((await get('/warm')).status, 200);
        assertGatewayError(await get('/post', 'POST', 'once'), 502, 'NGATE_ERR_UPSTREAM_RESET');
        assert.equal(up.received.filter((q) => q.method === 'POST').length, 1, 'a POST is never sent twice');
      },
    }),
  ),
];

/** The engine's open file descriptors, as their link targets (socket:[inode], pipe:[...], /dev/null...). */
function fdList(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed between the listing and the readlink
    }
  }
  return out;
}

const sockets = (fds: string[]): number => fds.filter((f) => f.startsWith('socket:')).length;

describe('upstream faults', () => {
  let gw: Gateway;
  let enginePid = 0;
  let fdsBefore: string[] = [];
  const ups = new Map<string, FaultUpstream>();
  const targets: { close(): Promise<void> }[] = [];
  let passed = 0;

  before(async () => {
    const routes: string[] = [];
    const pipelines: string[] = [];
    for (const s of scenarios) {
      const up = await startFaultUpstream(s.script);
      ups.set(s.name, up);
      let url = up.url;
      if (s.target !== undefined) {
        const t = await s.target();
        targets.push(t);
        url = t.url;
      }
      routes.push(`      - { pathPrefix: /${s.name}/, backend: ${s.name} }`);
      pipelines.push(`---
kind: Pipeline
name: ${s.name}
filters: [{ name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${url}" }]${s.pool === undefined ? '' : `, ${s.pool}`} } }]`);
    }
    gw = await startGateway(`
kind: HTTPServer
name: edge
port: 0
rules:
  - paths:
${routes.join('\n')}
${pipelines.join('\n')}
`);
    enginePid = Number(/ngate ready pid=(\d+)/.exec(gw.logs())?.[1]);
    assert.ok(enginePid > 0);
    fdsBefore = fdList(enginePid);
  });

  after(async () => {
    const code = await gw.stop();
    for (const up of ups.values()) await up.close();
    for (const t of targets) await t.close();
    console.log(`# upstream fault scenarios passed: ${passed}/${scenarios.length}`);
    assert.equal(code, 0);
  });

  for (const s of scenarios) {
    it(s.name, async () => {
      const up = ups.get(s.name) as FaultUpstream;
      const base = `/${s.name}`;
      await s.check({
        gw,
        up,
        get: (path = '/', method = 'GET', body, signal) => http(gw.url('edge', base + path), { method, body, fresh: true, signal }),
        raw: (path = '/') => rawRequest(gw.ports.get('edge') as number, `GET ${base}${path} HTTP/1.1\r\nhost: x\r\n\r\n`),
      });
      passed++;
    });
  }

  it('still answers, and holds no socket it does not need, after every fault', async () => {
    assert.equal(gw.child.exitCode, null, 'no crash');
    assert.ok(gw.logs().match(/engine died/) === null, 'the engine never restarted');
    assert.equal((await http(gw.url('edge', '/extra-bytes/final'), { fresh: true })).body, 'ok GET /extra-bytes/final');
    // Upstreams going away close the pools' idle keep-alive sockets; then every fd the faults opened is gone.
    for (const up of ups.values()) await up.close();
    // (One descriptor that is not a socket, /dev/null, appears lazily once during the run; it is not per request.)
    const deadline = Date.now() + 5_000;
    let now = fdList(enginePid);
    while (sockets(now) > sockets(fdsBefore) && Date.now() < deadline) {
      await sleep(50);
      now = fdList(enginePid);
    }
    console.log(`# engine open fds: before ${fdsBefore.length} (${sockets(fdsBefore)} sockets), after ${now.length} (${sockets(now)} sockets)`);
    assert.equal(sockets(now), sockets(fdsBefore), `before: ${fdsBefore.join(' ')}\nafter: ${now.join(' ')}`);
    assert.ok(now.length <= fdsBefore.length + 1, `before: ${fdsBefore.join(' ')}\nafter: ${now.join(' ')}`);
  });
});
