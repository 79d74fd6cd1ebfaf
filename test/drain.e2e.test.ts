import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { proxyConfig } from './helpers/pipelines';
import { http } from './helpers/http';
import { closedPort } from './helpers/raw';
import { startTrackingUpstream, type TrackingUpstream } from './helpers/tracking-upstream';

function config(url: string, port: number): string {
  return proxyConfig(url, '', { port });
}

/** Resolves true when a new TCP connection to `port` is refused, false when one is accepted. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

async function until(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(10);
  }
  return false;
}

interface Outcome {
  readonly tag: string;
  readonly beforeStop: boolean;
  /** 'ok', or why it failed. */
  result: string;
  /** True when response bytes arrived but the response was not complete. */
  partial: boolean;
}

const DRAIN_TIMEOUT_MS = 5_000;

describe('graceful drain', () => {
  let up: TrackingUpstream;
  before(async () => {
    up = await startTrackingUpstream();
  });
  after(async () => up.close());

  it('SIGTERM under load: /ready 503, listeners closed, every in-flight request completes, idle connections closed, exit 0', async () => {
    const port = await closedPort();
    const gw = await startGateway(config(up.url, port), { workers: 2, args: ['--drain-timeout', `${DRAIN_TIMEOUT_MS}ms`] });
    const agent = new Agent({ keepAliveTimeout: 60_000, connections: 64 });
    const outcomes: Outcome[] = [];
    let stopAt = 0;
    let seq = 0;
    // 16 loops, keep-alive, one request in three slow (300 ms upstream).
    const loop = async (): Promise<void> => {
      for (;;) {
        const n = seq++;
        const tag = `d${n}`;
        const o: Outcome = { tag, beforeStop: stopAt === 0, result: 'pending', partial: false };
        outcomes.push(o);
        const path = n % 3 === 0 ? '/slow' : '/ok';
        try {
          const res = await request(`http://127.0.0.1:${port}${path}?tag=${tag}`, { dispatcher: agent });
          o.partial = true;
          const body = await res.body.text();
          o.result = res.statusCode === 200 && body === (path === '/slow' ? 'slow ok' : 'ok') ? 'ok' : `${res.statusCode} ${body}`;
          o.partial = false;
        } catch (err) {
          o.result = `${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`;
        }
        if (o.result !== 'ok' && stopAt !== 0) return;
      }
    };
    const loops = Promise.all(Array.from({ length: 16 }, loop));

    // An idle keep-alive connection: one request, then silence.
    const idle = net.connect(port, '127.0.0.1');
    idle.on('error', () => undefined);
    await once(idle, 'connect');
    const idleClosed = new Promise<number>((resolve) => idle.once('close', () => resolve(Date.now())));
    idle.write('GET /ok?tag=idle HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(idle, 'data');

    // /ready polled throughout: once it says 503 it never says 200 again.
    const readiness: number[] = [];
    const polling = (async (): Promise<void> => {
      for (;;) {
        try {
          readiness.push((await http(`${gw.admin}/ready`, { fresh: true })).status);
        } catch {
          return; // the engine is gone
        }
        await sleep(5);
      }
    })();
    await sleep(1_000);
    assert.equal((await http(`${gw.admin}/ready`)).status, 200);
    stopAt = Date.now();
    const exited = gw.stop();
    await gw.waitForLog(/INFO draining timeoutMs=/);
    const ready = await http(`${gw.admin}/ready`);
    assert.equal(ready.status, 503, 'not ready from the moment draining starts');
    assert.match((await http(`${gw.admin}/server_info`)).body, /DRAINING/);
    assert.ok(await until(() => refused(port), 1_000), 'the listeners close: new connections are refused');

    const code = await exited;
    const exitMs = Date.now() - stopAt;
    await loops;
    await polling;
    const firstNotReady = readiness.indexOf(503);
    assert.ok(firstNotReady > 0, `readiness seen: ${readiness.join(',')}`);
    assert.deepEqual(readiness.slice(firstNotReady).filter((s) => s !== 503), [], 'ready again after draining started');
    const idleMs = (await idleClosed) - stopAt;
    await agent.close();

    const inFlight = outcomes.filter((o) => o.beforeStop);
    const failedInFlight = inFlight.filter((o) => o.result !== 'ok');
    const after = outcomes.filter((o) => !o.beforeStop);
    const served = outcomes.filter((o) => o.result === 'ok').length;
    // A request the upstream saw must have reached its client whole.
    const lost = [...up.seen.values()].filter((s) => s.tag.startsWith('d') && outcomes.find((o) => o.tag === s.tag)?.result !== 'ok');
    console.log(
      `# drain: ${served} requests served, ${inFlight.length} started before SIGTERM (${failedInFlight.length} failed), ` +
        `${after.length} started after (${after.filter((o) => o.result === 'ok').length} served, refused: ${[...new Set(after.filter((o) => o.result !== 'ok').map((o) => o.result.split(' ')[0]))].join(',')} ×${after.filter((o) => o.result !== 'ok').length}); ` +
        `requests lost: ${lost.length + failedInFlight.length}; exit ${code} after ${exitMs} ms; idle connection closed after ${idleMs} ms`,
    );
    assert.deepEqual(failedInFlight.map((o) => `${o.tag} ${o.result}`), []);
    assert.deepEqual(lost.map((s) => s.tag), [], 'requests that reached the upstream but not their client');
    assert.deepEqual(outcomes.filter((o) => o.partial).map((o) => o.tag), [], 'no truncated response');
    assert.ok(inFlight.some((o) => o.tag !== '' && up.seen.get(o.tag)?.path === '/slow'), 'slow requests were in flight');
    assert.equal(code, 0);
    assert.ok(exitMs < DRAIN_TIMEOUT_MS, `exit after ${exitMs} ms`);
    assert.ok(idleMs < DRAIN_TIMEOUT_MS, `idle keep-alive connection closed after ${idleMs} ms`);
  });

  describe('a replacement process on the same port', () => {
    let b1: Backend;
    let b2: Backend;
    let release: () => void = () => undefined;
    let holding: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (holding = resolve));
    before(async () => {
      b1 = await startBackend(1, (req, res) => {
        if (req.url !== '/hold') return void res.end(`backend 1 ${req.url}`);
        holding();
        release = () => res.end('held request done');
      });
      b2 = await startBackend(2);
    });
    after(async () => {
      await b1.close();
      await b2.close();
    });

    it('starts while the first drains and takes the new connections', async () => {
      const port = await closedPort();
      const first = await startGateway(config(b1.url, port), { workers: 2 });
      let second: Gateway | null = null;
      try {
        const inFlight = http(`http://127.0.0.1:${port}/hold`, { fresh: true });
        await held;
        const stopAt = Date.now();
        const exited = first.stop();
        await first.waitForLog(/INFO draining timeoutMs=/);
        assert.ok(await until(() => refused(port), 1_000));
        second = await startGateway(config(b2.url, port), { workers: 2 });
        const gapMs = Date.now() - stopAt;
        const r = await http(`http://127.0.0.1:${port}/new`, { fresh: true });
        assert.equal(r.body, 'backend 2 GET /new', 'new connections go to the replacement');
        assert.equal(first.child.exitCode, null, 'the first one is still draining');
        release();
        const done = await inFlight;
        assert.equal(done.status, 200);
        assert.equal(done.body, 'held request done');
        assert.equal(await exited, 0);
        console.log(`# replacement: listening ${gapMs} ms after SIGTERM to the first (its startup time); the first finished its request and exited 0`);
      } finally {
        release();
        if (first.child.exitCode === null) await first.stop();
        if (second !== null) assert.equal(await second.stop(), 0);
      }
    });
  });
});
