import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { proxyConfig } from './helpers/pipelines';
import { http } from './helpers/http';
import { BIG_BYTES, startTrackingUpstream, type TrackingUpstream } from './helpers/tracking-upstream';
import { describeLatency, enginePidOf, kernelQueuedBytes, openFds, rssBytes, steadyTraffic } from './helpers/traffic';

/** uWS's fixed header/idle timeout is ~10 s with a ~4 s granularity. */
const CUT_WITHIN_MS = 15_000;

/** A client connection and when the gateway closed it. */
interface Conn {
  readonly socket: net.Socket;
  readonly openedAt: number;
  readonly closed: Promise<number>;
  received: number;
}

async function connect(port: number): Promise<Conn> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const conn: Conn = {
    socket,
    openedAt: Date.now(),
    closed: new Promise((resolve) => socket.once('close', () => resolve(Date.now()))),
    received: 0,
  };
  socket.on('data', (c: Buffer) => (conn.received += c.length));
  return conn;
}

/** Writes `payload` in `pieces` pieces, one every `everyMs`, until done or the socket closes. */
async function trickle(conn: Conn, payload: Buffer, pieceBytes: number, everyMs: number): Promise<void> {
  for (let off = 0; off < payload.length && !conn.socket.destroyed; off += pieceBytes) {
    conn.socket.write(payload.subarray(off, off + pieceBytes));
    await sleep(everyMs);
  }
}

/** Reads one whole response with Content-Length off a raw connection. */
function readResponse(socket: net.Socket): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      socket.off('data', onData);
      resolve({ status: Number(head.split(' ')[1]), body: buf.subarray(end + 4, end + 4 + length).toString() });
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed after ${buf.length} bytes: ${buf.toString('latin1').slice(0, 200)}`)));
  });
}

describe('slow and abusive clients', () => {
  let gw: Gateway;
  let up: TrackingUpstream;
  let port = 0;
  let enginePid = 0;

  before(async () => {
    up = await startTrackingUpstream();
    gw = await startGateway(proxyConfig(up.url), { workers: 2 });
    port = gw.ports.get('edge') as number;
    enginePid = enginePidOf(gw.logs());
    assert.ok(enginePid > 0);
  });

  after(async () => {
    assert.equal(await gw.stop(), 0);
    await up.close();
  });

  it('slowloris and too-slow uploads are cut by the header/idle timeout while normal traffic and slow-but-allowed uploads go on', async () => {
    await steadyTraffic(gw.url('edge', '/ok'), sleep(1_000)); // warm-up, not measured
    const baseline = await steadyTraffic(gw.url('edge', '/ok'), sleep(2_000));
    assert.deepEqual(baseline.failed, []);

    const SLOWLORIS = 1_000;
    const head = Buffer.from('GET /ok?tag=slowloris HTTP/1.1\r\nHost: x\r\nX-Padding: ' + 'a'.repeat(200) + '\r\n\r\n');
    const loris: Conn[] = [];
    for (let i = 0; i < SLOWLORIS; i++) loris.push(await connect(port));
    // One byte per second each: never a complete head before the timeout.
    const trickles = loris.map((c) => trickle(c, head, 1, 1_000));

    // 1 MB announced, 1 KB/s sent: far below the ~16 KB/s uWS demands per 10 s window.
    const tooSlow = await connect(port);
    tooSlow.socket.write(`POST /upload?tag=too-slow HTTP/1.1\r\nHost: x\r\nContent-Length: ${1 << 20}\r\n\r\n`);
    const tooSlowDone = trickle(tooSlow, Buffer.alloc(1 << 20, 0x62), 1024, 1_000);

    // 384 KB at 32 KB/s: slow, but above the engine's floor, and longer than one 10 s window.
    const allowedBody = Buffer.alloc(384 * 1024);
    for (let i = 0; i < allowedBody.length; i++) allowedBody[i] = (i * 7) & 0xff;
    const allowed = await connect(port);
    allowed.socket.write(`POST /upload?tag=allowed HTTP/1.1\r\nHost: x\r\nContent-Length: ${allowedBody.length}\r\n\r\n`);
    const allowedReply = readResponse(allowed.socket);
    const allowedDone = trickle(allowed, allowedBody, 4 * 1024, 125);

    const allCut = Promise.all(loris.map((c) => c.closed));
    const during = await steadyTraffic(gw.url('edge', '/ok'), Promise.all([allCut, allowedReply, tooSlow.closed]).catch(() => undefined));
    const cutAt = await allCut;
    await Promise.all(trickles);
    await tooSlowDone;
    await allowedDone;

    const held = cutAt.map((t, i) => t - (loris[i] as Conn).openedAt);
    console.log(`# slowloris: ${SLOWLORIS} connections held, cut after ${Math.min(...held)}..${Math.max(...held)} ms`);
    console.log(`# normal traffic without slowloris: ${describeLatency(baseline)}`);
    console.log(`# normal traffic with ${SLOWLORIS} slowloris connections: ${describeLatency(during)}`);
    for (const h of held) assert.ok(h <= CUT_WITHIN_MS, `a slowloris connection was held ${h} ms`);
    assert.equal(loris.filter((c) => c.received > 0).length, 0, 'uWS closes silently, no response bytes');
    assert.equal(up.seen.has('slowloris'), false, 'no slowloris request reached the upstream');
    assert.deepEqual(during.failed, []);
    assert.ok(during.ok > 0);

    const tooSlowHeld = (await tooSlow.closed) - tooSlow.openedAt;
    console.log(`# upload at 1 KB/s cut after ${tooSlowHeld} ms`);
    assert.ok(tooSlowHeld <= CUT_WITHIN_MS, `too-slow upload held ${tooSlowHeld} ms`);
    const cut = up.seen.get('too-slow');
    if (cut !== undefined) {
      await up.aborted('too-slow');
      assert.equal(cut.completed, false, 'the cut upload never completes upstream');
      assert.ok(cut.bodyBytes < 1 << 20);
    }

    const r = await allowedReply;
    const elapsed = Date.now() - allowed.openedAt;
    console.log(`# upload at 32 KB/s (${allowedBody.length} bytes) completed in ${elapsed} ms`);
    assert.equal(r.status, 200);
    assert.equal(r.body, `${allowedBody.length} ${createHash('sha256').update(allowedBody).digest('hex')}`);
    allowed.socket.destroy();
  });

  it('a client that stops reading a 50 MB response does not make the gateway buffer it', async () => {
    for (let i = 0; i < 20; i++) await http(gw.url('edge', '/ok'));
    const rssBefore = rssBytes(enginePid);
    const conn = await connect(port);
    let headerSeen = false;
    const firstBytes = new Promise<void>((resolve) =>
      conn.socket.once('data', () => {
        headerSeen = true;
        conn.socket.pause();
        resolve();
      }),
    );
    conn.socket.write('GET /big?tag=slow-reader HTTP/1.1\r\nHost: x\r\n\r\n');
    await firstBytes;
    assert.ok(headerSeen);
    const seen = await up.arrived('slow-reader');
    // Wait until the upstream is blocked: no progress for 1 s.
    let last = -1;
    while (seen.written !== last) {
      last = seen.written;
      await sleep(1_000);
    }
    const rssStalled = rssBytes(enginePid);
    // What is neither in the client nor in a kernel socket queue is held in user space (gateway and upstream buffers).
    const upstreamPort = Number(new URL(up.url).port);
    const queued = kernelQueuedBytes([conn.socket.localPort as number, upstreamPort]);
    const userSpace = seen.written - conn.received - queued;
    const mb = (n: number): string => (n / 1048576).toFixed(2);
    console.log(
      `# slow reader: upstream blocked after ${mb(seen.written)} of ${mb(BIG_BYTES)} MB: ${mb(conn.received)} MB read by the client, ` +
        `${mb(queued)} MB in kernel socket queues, ${mb(userSpace)} MB in user space; engine RSS ${mb(rssBefore)} → ${mb(rssStalled)} MB`,
    );
    assert.ok(seen.written < BIG_BYTES, 'the upstream could not write the whole body to a client that reads nothing');
    assert.ok(userSpace < 4 * 1048576, `${userSpace} bytes buffered in user space`);
    assert.ok(rssStalled - rssBefore < 24 * 1048576, `engine RSS grew by ${mb(rssStalled - rssBefore)} MB`);
    // Reading again resumes the stream: the whole body arrives.
    const done = new Promise<void>((resolve) => conn.socket.on('data', () => conn.received >= BIG_BYTES && resolve()));
    conn.socket.resume();
    await done;
    assert.ok(conn.received >= BIG_BYTES);
    conn.socket.destroy();
  });

  it('clients that vanish at every stage: the upstream request is aborted within 1 s, nothing leaks', async () => {
    await http(gw.url('edge', '/ok'));
    const fdsBefore = openFds(enginePid);

    // Before the head is complete: nothing reaches the upstream.
    const early = await connect(port);
    early.socket.write('GET /ok?tag=vanish-head HTTP/1.1\r\nHost: x\r\n');
    await sleep(100);
    early.socket.destroy();

    const stages: [string, string, (c: Conn) => Promise<void>][] = [
      ['vanish-upload', `POST /upload?tag=vanish-upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'u'.repeat(10_000)}`, async () => undefined],
      ['vanish-waiting', 'GET /hang?tag=vanish-waiting HTTP/1.1\r\nHost: x\r\n\r\n', async () => undefined],
      [
        'vanish-download',
        'GET /partial?tag=vanish-download HTTP/1.1\r\nHost: x\r\n\r\n',
        async (c) => {
          while (c.received < 32 * 1024) await once(c.socket, 'data');
        },
      ],
    ];
    for (const [tag, request, ready] of stages) {
      const c = await connect(port);
      c.socket.write(request);
      await up.arrived(tag);
      await ready(c);
      const vanishedAt = Date.now();
      c.socket.destroy();
      const s = await up.aborted(tag);
      console.log(`# ${tag}: upstream request aborted ${s.closedAt - vanishedAt} ms after the client vanished`);
      assert.ok(s.closedAt - vanishedAt <= 1_000, `${tag}: aborted after ${s.closedAt - vanishedAt} ms`);
      assert.equal(s.completed, false);
    }
    assert.equal(up.seen.has('vanish-head'), false, 'a request whose head never completed reached the upstream');

    // No crash: same engine, still serving; the aborted upstream sockets are gone.
    assert.equal((await http(gw.url('edge', '/ok'))).body, 'ok');
    assert.equal(enginePidOf(gw.logs()), enginePid);
    assert.doesNotMatch(gw.logs(), /engine died|worker error/);
    const deadline = Date.now() + 3_000;
    while (openFds(enginePid) > fdsBefore && Date.now() < deadline) await sleep(50);
    console.log(`# engine fds before ${fdsBefore}, after ${openFds(enginePid)}; upstream sockets open ${up.openSockets()}`);
    assert.ok(openFds(enginePid) <= fdsBefore, `engine fds ${fdsBefore} → ${openFds(enginePid)}`);
  });

  it('idle connections are held while normal traffic keeps answering', async () => {
    const IDLE = 5_000;
    const baseline = await steadyTraffic(gw.url('edge', '/ok'), sleep(1_500));
    const opening = performance.now();
    const idle: Conn[] = [];
    for (let i = 0; i < IDLE; i += 250) {
      idle.push(...(await Promise.all(Array.from({ length: Math.min(250, IDLE - i) }, () => connect(port)))));
    }
    const openMs = performance.now() - opening;
    const during = await steadyTraffic(gw.url('edge', '/ok'), sleep(2_000));
    let open = 0;
    for (const c of idle) if (!c.socket.destroyed && c.socket.readyState === 'open') open++;
    console.log(`# idle connections: ${IDLE} opened in ${openMs.toFixed(0)} ms, ${open} still open during traffic`);
    console.log(`# normal traffic without idle connections: ${describeLatency(baseline)}`);
    console.log(`# normal traffic with ${open} idle connections: ${describeLatency(during)}`);
    for (const c of idle) c.socket.destroy();
    assert.deepEqual(baseline.failed, []);
    assert.deepEqual(during.failed, []);
    assert.ok(during.ok > 0);
    assert.equal(open, IDLE, 'every idle connection was accepted and held');
  });
});
