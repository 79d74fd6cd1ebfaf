import assert from 'node:assert/strict';
import * as nodeHttp from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { ResponseParser, type ResponseSink } from '../src/dataplane/upstream/h1/parser';
import { H1Pool } from '../src/dataplane/upstream/h1/pool';
import { requestHead } from '../src/dataplane/upstream/h1/serialize';
import { poolSchema } from '../src/config/pool-schema';
import type { Issue } from '../src/config/schema-kit';
import type { BodyWaiter, DeferredBody } from '../src/dataplane/context';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { reply, startFaultUpstream, type FaultUpstream } from './helpers/fault-upstream';

interface Parsed {
  status: number;
  headers: string[];
  body: string;
  ended: boolean;
  extra: boolean;
}

function parse(wire: string, split: number[] = [], bodyless = false): Parsed {
  const out: Parsed = { status: 0, headers: [], body: '', ended: false, extra: false };
  const sink: ResponseSink = {
    onHead: (status, _reason, headers) => {
      out.status = status;
      out.headers = headers;
    },
    onBody: (chunk) => (out.body += chunk.toString('latin1')),
    onEnd: (extra) => {
      out.ended = true;
      out.extra = extra;
    },
  };
  const p = new ResponseParser(sink);
  p.start(bodyless);
  const bytes = Buffer.from(wire, 'latin1');
  let from = 0;
  for (const at of [...split, bytes.length]) {
    if (out.ended) break;
    p.execute(bytes.subarray(from, at));
    from = at;
  }
  return out;
}

const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\ntrailer: x\r\n\r\n';

describe('h1 response parser', () => {
  it('parses a Content-Length response with lowercase flat headers', () => {
    const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Multi: a\r\nx-multi: b\r\n\r\nhello');
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers, ['content-length', '5', 'x-multi', 'a', 'x-multi', 'b']);
    assert.equal(r.body, 'hello');
    assert.equal(r.ended, true);
    assert.equal(r.extra, false);
  });

  it('lowercases header names in any spelling, common or not, and trims only SP and HTAB around values', () => {
    const r = parse('HTTP/1.1 200 OK\r\nCONTENT-type: a\r\nContent-Typf: b\r\nServeR:\t c \t\r\nX-Obs: \xa0d\xa0\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(r.headers, ['content-type', 'a', 'content-typf', 'b', 'server', 'c', 'x-obs', '\xa0d\xa0', 'content-length', '0']);
  });

  it('parses chunked bodies split at every byte boundary', () => {
    const bytes = Buffer.byteLength(CHUNKED);
    for (let i = 1; i < bytes; i++) {
      const r = parse(CHUNKED, [i]);
      assert.equal(r.body, 'hello world', `split at ${i}`);
      assert.equal(r.ended, true);
    }
    const oneByOne = parse(
      CHUNKED,
      Array.from({ length: bytes - 1 }, (_, i) => i + 1),
    );
    assert.equal(oneByOne.body, 'hello world');
  });

  it('skips 102/103 interim responses and reports extra bytes', () => {
    const r = parse('HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nokXX');
    assert.equal(r.status, 201);
    assert.equal(r.body, 'ok');
    assert.equal(r.extra, true);
  });

  it('treats 204, 304 and HEAD responses as bodyless', () => {
    assert.equal(parse('HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n').ended, true);
    assert.equal(parse('HTTP/1.1 304 Not Modified\r\n\r\n').ended, true);
    const head = parse('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello', [], true);
    assert.equal(head.body, '');
    assert.equal(head.extra, true);
  });

  it('rejects ambiguous or malformed responses', () => {
    for (const wire of [
      'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 5\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 3, 4\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n',
      'HTTP/1.1 abc OK\r\n\r\n',
      'HTTP/2 200 OK\r\n\r\n',
      'garbage\r\n\r\n',
      'HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n',
      'HTTP/1.1 200 OK\r\n folded\r\n\r\n',
      'HTTP/1.1 100 Continue\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
      `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
    ]) {
      assert.throws(() => parse(wire), { name: 'HTTPParserError' }, JSON.stringify(wire.slice(0, 60)));
    }
  });

  it('refuses a head with a bare LF as soon as the LF arrives, at every split', () => {
    const wire = 'HTTP/1.1 200 OK\ncontent-length: 3\n\nok\n';
    for (let i = 0; i < wire.length; i++) {
      // Split or not, the head never completes: the error comes from the partial head itself.
      assert.throws(() => parse(wire, i === 0 ? [] : [i]), { name: 'HTTPParserError', code: 'HPE_CR_EXPECTED' }, `split at ${i}`);
    }
    // A later bare LF, after CRLF lines already scanned in an earlier read.
    assert.throws(() => parse('HTTP/1.1 200 OK\r\nx-a: 1\r\nx-b: 2\ncontent-length: 0\r\n', [20]), { code: 'HPE_CR_EXPECTED' });
    // A CR at the end of one read and its LF at the start of the next is a CRLF.
    assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', [16, 20]).body, 'ok');
  });

  it('refuses control characters other than HTAB in header values, the reason phrase and trailer values', () => {
    for (const c of ['\x00', '\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x1f', '\x7f']) {
      const name = `0x${c.charCodeAt(0).toString(16)}`;
      assert.throws(() => parse(`HTTP/1.1 200 OK\r\nx-bad: a${c}b\r\ncontent-length: 0\r\n\r\n`), { name: 'HTTPParserError', code: 'HPE_INVALID_HEADER_TOKEN' }, `header ${name}`);
      assert.throws(() => parse(`HTTP/1.1 200 O${c}K\r\ncontent-length: 0\r\n\r\n`), { name: 'HTTPParserError' }, `reason ${name}`);
      // Split inside the trailer section too: the line is checked once it is whole.
      const trailer = `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-sum: a${c}b\r\n\r\n`;
      for (const split of [[], [trailer.indexOf('x-sum') + 7]]) {
        assert.throws(() => parse(trailer, split), { name: 'HTTPParserError', code: 'HPE_INVALID_HEADER_TOKEN' }, `trailer ${name} split ${split.join()}`);
      }
    }
    // HTAB, SP and obs-text (0x80-0xFF) are field-value characters.
    const ok = parse('HTTP/1.1 200 OK\r\nx-ok: a\tb c\xe9\xff\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-t: \x80\tz\r\n\r\n');
    assert.deepEqual(ok.headers.slice(0, 2), ['x-ok', 'a\tb c\xe9\xff']);
    assert.equal(ok.body, 'ok');
    assert.equal(ok.ended, true);
  });

  it('knows when a connection may be reused', () => {
    const sink: ResponseSink = { onHead: () => undefined, onBody: () => undefined, onEnd: () => undefined };
    const p = new ResponseParser(sink);
    p.start(false);
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n'));
    assert.equal(p.keepAlive, false);
    p.start(false);
    p.execute(Buffer.from('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n'));
    assert.equal(p.keepAlive, false);
    p.start(false);
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\nkeep-alive: timeout=5\r\ncontent-length: 0\r\n\r\n'));
    assert.equal(p.keepAlive, true);
    assert.equal(p.keepAliveHint, 5);
  });
});

describe('pool client option', () => {
  it('defaults to the native client, accepts undici, and refuses anything else', () => {
    const check = (extra: Record<string, unknown>): { value: unknown; issues: Issue[] } => {
      const issues: Issue[] = [];
      return { value: poolSchema.check({ servers: [{ url: 'http://127.0.0.1:1' }], ...extra }, [], issues), issues };
    };
    assert.equal((check({}).value as { client: string }).client, 'native');
    assert.equal((check({ client: 'undici' }).value as { client: string }).client, 'undici');
    const bad = check({ client: 'curl' });
    assert.equal(bad.value, undefined);
    assert.match(bad.issues[0]?.message ?? '', /expected one of native, undici/);
  });
});

describe('h1 request head', () => {
  it('adds host, framing and keep-alive, and refuses header injection', () => {
    const h = requestHead({ method: 'POST', path: '/a?b', headers: ['x-a', '1'] }, '127.0.0.1:9', 3).text;
    assert.equal(h, 'POST /a?b HTTP/1.1\r\nx-a: 1\r\nhost: 127.0.0.1:9\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\n');
    const chunked = requestHead({ method: 'PUT', path: '/', headers: ['host', 'h'] }, 'x', -1).text;
    assert.match(chunked, /transfer-encoding: chunked\r\n/);
    assert.throws(() => requestHead({ method: 'GET', path: '/', headers: ['x-a', 'v\r\nx-b: 1'] }, 'x', -2));
  });
});

/** A deferred request body as a listener hands it over: whole later, a stream later, or already whole. */
class FakeDeferred implements DeferredBody {
  whole: Buffer | null = null;
  destroyed = false;
  sendable = true;
  private waiter: BodyWaiter | null = null;
  private readable: Readable | null = null;

  wait(waiter: BodyWaiter): void {
    if (this.whole !== null || this.readable !== null) waiter.bodyReady();
    else this.waiter = waiter;
  }

  stream(): Readable {
    this.readable ??= this.whole === null ? new Readable({ read() {} }) : Readable.from([this.whole]);
    return this.readable;
  }

  destroy(): void {
    this.destroyed = true;
  }

  arriveWhole(bytes: string): void {
    this.whole = Buffer.from(bytes);
    this.waiter?.bodyReady();
  }

  /** The first part now, the rest in a later turn (too late for one write). */
  arriveInParts(first: string, rest: string): void {
    const r = this.stream();
    this.waiter?.bodyReady();
    r.push(Buffer.from(first));
    setTimeout(() => {
      r.push(Buffer.from(rest));
      r.push(null);
    }, 20);
  }
}

/** Collects one exchange through a dispatcher. */
function exchange(pool: H1Pool, opts: Dispatcher.DispatchOptions, pauseFirst = false): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: Record<string, unknown> = {};
    const parts: Buffer[] = [];
    pool.dispatch(opts, {
      onResponseStart: (_c, s, h) => {
        status = s;
        headers = h as Record<string, unknown>;
      },
      onResponseData: (c, chunk) => {
        parts.push(chunk);
        if (pauseFirst && parts.length === 1) {
          c.pause();
          setImmediate(() => c.resume());
        }
      },
      onResponseEnd: () => resolve({ status, body: Buffer.concat(parts).toString(), headers }),
      onResponseError: (_c, err) => reject(err),
    });
  });
}

/** A body whose every 64 KiB window differs, so a reused read buffer would show. */
const PATTERN = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7 + (i >> 16)) % 251));

describe('h1 pool against a Node server', () => {
  let server: nodeHttp.Server;
  let origin = '';
  const sockets = new Set<unknown>();
  let pool: H1Pool;

  before(async () => {
    server = nodeHttp.createServer((req, res) => {
      sockets.add(req.socket);
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const body = Buffer.concat(parts).toString();
        if (req.url === '/big') {
          res.end('x'.repeat(300_000));
          return;
        }
        if (req.url === '/pattern') {
          // Several writes, so the body arrives over several socket reads.
          for (let i = 0; i < PATTERN.length; i += 50_000) res.write(PATTERN.subarray(i, i + 50_000));
          res.end();
          return;
        }
        res.setHeader('x-te', req.headers['transfer-encoding'] ?? '');
        res.end(`${req.method} ${req.url} ${body}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    pool = new H1Pool(origin, { connections: 2, connectTimeout: 1_000, timeout: 5_000, keepAliveTimeout: 4_000, tls: null });
  });

  after(async () => {
    await pool.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reuses connections and queues beyond the connection limit', async () => {
    const all = await Promise.all(Array.from({ length: 10 }, (_, i) => exchange(pool, { method: 'GET', path: `/${i}`, headers: [] })));
    all.forEach((r, i) => assert.equal(r.body, `GET /${i} `));
    assert.equal(sockets.size, 2, 'ten requests over two connections');
  });

  it('sends bodies: a given buffer, a small stream with a length, a chunked stream', async () => {
    assert.equal((await exchange(pool, { method: 'POST', path: '/b', headers: [], body: Buffer.from('abc') })).body, 'POST /b abc');
    const small = await exchange(pool, { method: 'POST', path: '/s', headers: ['content-length', '6'], body: Readable.from([Buffer.from('abc'), Buffer.from('def')]) });
    assert.equal(small.body, 'POST /s abcdef');
    const big = Buffer.alloc(200_000, 'y').toString();
    const streamed = await exchange(pool, { method: 'PUT', path: '/c', headers: [], body: Readable.from([Buffer.from(big), Buffer.from('z')]) });
    assert.equal(streamed.body, `PUT /c ${big}z`);
    assert.equal(streamed.headers['x-te'], 'chunked');
  });

  it('sends a deferred body: whole behind the head once it arrives, or as a stream', async () => {
    const later = new FakeDeferred();
    const pending = exchange(pool, { method: 'POST', path: '/w', headers: [], body: later as unknown as Readable });
    setImmediate(() => later.arriveWhole('whole body'));
    const whole = await pending;
    assert.equal(whole.body, 'POST /w whole body');
    assert.equal(whole.headers['x-te'], '', 'sent with a content-length');
    const ready = new FakeDeferred();
    ready.arriveWhole('at once');
    assert.equal((await exchange(pool, { method: 'PUT', path: '/r', headers: [], body: ready as unknown as Readable })).body, 'PUT /r at once');
    const parts = new FakeDeferred();
    const streaming = exchange(pool, { method: 'POST', path: '/p', headers: [], body: parts as unknown as Readable });
    setImmediate(() => parts.arriveInParts('one ', 'two'));
    const streamed = await streaming;
    assert.equal(streamed.body, 'POST /p one two');
    assert.equal(streamed.headers['x-te'], 'chunked');
  });

  it('pauses and resumes a large response', async () => {
    const r = await exchange(pool, { method: 'GET', path: '/big', headers: [] }, true);
    assert.equal(r.body.length, 300_000);
  });

  it('hands over body pieces that stay intact after later reads', async () => {
    const parts: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      pool.dispatch(
        { method: 'GET', path: '/pattern', headers: [] },
        {
          onResponseData: (_c, chunk) => void parts.push(chunk),
          onResponseEnd: () => resolve(),
          onResponseError: (_c, err) => reject(err),
        },
      );
    });
    assert.ok(parts.length > 1, `${parts.length} piece(s)`);
    assert.ok(Buffer.concat(parts).equals(PATTERN), 'the kept pieces are the bytes sent');
  });

  it('a closing pool serves the requests queued before it closed, then closes its connections', async () => {
    const closing = new H1Pool(origin, { connections: 1, connectTimeout: 1_000, timeout: 5_000, keepAliveTimeout: 4_000, tls: null });
    // One on the pool's only connection, two waiting for it.
    const queued = [0, 1, 2].map((i) => exchange(closing, { method: 'GET', path: `/q${i}`, headers: [] }));
    const closed = closing.close();
    await assert.rejects(exchange(closing, { method: 'GET', path: '/late', headers: [] }), { code: 'UND_ERR_CLOSED' });
    const answers = await Promise.all(queued);
    assert.deepEqual(answers.map((r) => r.body), ['GET /q0 ', 'GET /q1 ', 'GET /q2 ']);
    await closed;
  });

  it('fails a request whose connection is refused', async () => {
    const dead = new H1Pool('http://127.0.0.1:1', { connections: 1, connectTimeout: 1_000, timeout: 1_000, keepAliveTimeout: 1_000, tls: null });
    await assert.rejects(exchange(dead, { method: 'GET', path: '/', headers: [] }), { code: 'ECONNREFUSED' });
    await dead.close();
  });
});

describe('both upstream clients through the gateway', () => {
  let gw: Gateway;
  let backend: Backend;

  before(async () => {
    backend = await startBackend(1);
    gw = await startGateway(`
kind: HTTPServer
name: edge
port: 0
rules:
  - paths:
      - { pathPrefix: /n/, backend: n }
      - { pathPrefix: /u/, backend: u }
---
kind: Pipeline
name: n
filters: [{ name: proxy, kind: Proxy, mainPool: { client: native, servers: [{ url: "${backend.url}" }] } }]
---
kind: Pipeline
name: u
filters: [{ name: proxy, kind: Proxy, mainPool: { client: undici, servers: [{ url: "${backend.url}" }] } }]
`);
  });

  after(async () => {
    await gw.stop();
    await backend.close();
  });

  it('forwards the same GET and POST either way', async () => {
    for (const prefix of ['n', 'u']) {
      const get = await http(gw.url('edge', `/${prefix}/a?b=1`));
      assert.equal(get.status, 200);
      assert.equal(get.body, `backend 1 GET /${prefix}/a?b=1`);
      const post = await http(gw.url('edge', `/${prefix}/p`), { method: 'POST', body: 'x'.repeat(1024) });
      assert.equal(post.body, `backend 1 POST /${prefix}/p`);
      const seen = backend.seen.at(-1);
      assert.equal(seen?.bodyBytes, 1024);
      assert.equal(seen?.headers.via, '1.1 ngate');
    }
  });
});

/** One request through a pool, its outcome readable at any time. */
function track(
  pool: H1Pool,
  path: string,
): { outcome: () => Error | 'done' | null; controller: () => Dispatcher.DispatchController; firstData: Promise<void>; settled: Promise<void> } {
  let outcome: Error | 'done' | null = null;
  let controller: Dispatcher.DispatchController | null = null;
  let dataSeen: () => void = () => undefined;
  let settle: () => void = () => undefined;
  const firstData = new Promise<void>((resolve) => (dataSeen = resolve));
  const settled = new Promise<void>((resolve) => (settle = resolve));
  pool.dispatch(
    { method: 'GET', path, headers: [] },
    {
      onRequestStart: (c) => void (controller = c),
      onResponseData: () => dataSeen(),
      onResponseEnd: () => {
        outcome = 'done';
        settle();
      },
      onResponseError: (_c, err) => {
        outcome = err;
        settle();
      },
    },
  );
  return { outcome: () => outcome, controller: () => controller as Dispatcher.DispatchController, firstData, settled };
}

describe('h1 pool deadlines on a driven clock', { timeout: 20_000 }, () => {
  const TIMEOUT = 1_000;
  let up: FaultUpstream;
  /** The clock the pool reads; it moves only when the test says so, as a tick may lag real time. */
  let t = 0;
  let pool: H1Pool;
  let arrived: () => void = () => undefined;
  /** Lets the upstream write the partial response. */
  let go: () => void = () => undefined;
  const goNow = new Promise<void>((resolve) => (go = resolve));

  before(async () => {
    up = await startFaultUpstream((req) => {
      if (req.path === '/ok') return [['write', reply(200, 'ok')]];
      if (req.path === '/partial') return [['signal', () => arrived()], ['until', goNow], ['write', 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello']];
      return [['signal', () => arrived()]]; // never answered
    });
    pool = new H1Pool(up.url, { connections: 1, connectTimeout: 600_000, timeout: TIMEOUT, keepAliveTimeout: 600_000, tls: null, clock: () => t });
  });

  after(async () => {
    await up.close();
    await pool.close();
  });

  /** Sets the clock, runs the pool's tick and lets a failure reach the handler. */
  async function tickAt(ms: number): Promise<void> {
    t = ms;
    pool.tick();
    await new Promise((resolve) => setImmediate(resolve));
  }

  function assertTimedOut(outcome: Error | 'done' | null, code: string, message: string): void {
    assert.ok(outcome instanceof Error, `outcome: ${String(outcome)}`);
    assert.equal((outcome as Error & { code?: string }).code, code);
    assert.equal(outcome.message, message);
  }

  it('counts the first request on a new connection from when it connected, not from the last tick', async () => {
    const sent = new Promise<void>((resolve) => (arrived = resolve));
    t = 0;
    const r = track(pool, '/hang');
    t = 5_000; // the connection stands after the clock moved, with no tick between
    await sent; // the upstream read the request: the client's connect handler ran
    await tickAt(5_000 + TIMEOUT - 1);
    assert.equal(r.outcome(), null, 'no deadline before the timeout after the request went out');
    // The tick after the request armed the deadline from its own reading: it fires late, by up to that tick.
    await tickAt(5_000 + 2 * TIMEOUT);
    assertTimedOut(r.outcome(), 'UND_ERR_HEADERS_TIMEOUT', 'headers timeout');
  });

  it('counts a request on a kept-alive connection from when it went out, and a pause does not stop the deadline', async () => {
    t = 10_000;
    const warm = track(pool, '/ok');
    await warm.settled;
    assert.equal(warm.outcome(), 'done');
    await tickAt(10_000); // the warm-up's bytes are seen
    const sent = new Promise<void>((resolve) => (arrived = resolve));
    t = 20_000; // no tick since: the pool's coarse clock still says 10 000
    const r = track(pool, '/hang');
    await sent;
    assert.equal(up.received.at(-1)?.conn, up.received.at(-2)?.conn, 'the kept-alive socket carried it');
    r.controller().pause();
    r.controller().resume();
    await tickAt(20_000 + TIMEOUT - 1);
    assert.equal(r.outcome(), null, 'no deadline before the timeout after the request went out');
    r.controller().pause();
    // The tick after the request armed the deadline from its own reading: it fires late, never early.
    await tickAt(20_000 + 2 * TIMEOUT);
    assertTimedOut(r.outcome(), 'UND_ERR_HEADERS_TIMEOUT', 'headers timeout');
  });

  it('counts the whole response: body bytes do not move the deadline', async () => {
    const sent = new Promise<void>((resolve) => (arrived = resolve));
    t = 100_000;
    const r = track(pool, '/partial');
    await sent;
    await tickAt(100_000); // arms the deadline for the request: 100 000 + the timeout
    t = 100_900; // no tick between the bytes and the next check
    go();
    await r.firstData;
    await tickAt(100_900); // sees the bytes: the deadline stays
    assert.equal(r.outcome(), null);
    await tickAt(100_000 + TIMEOUT - 1);
    assert.equal(r.outcome(), null, 'never early');
    await tickAt(100_000 + TIMEOUT);
    assertTimedOut(r.outcome(), 'UND_ERR_BODY_TIMEOUT', 'response timeout');
  });
});
