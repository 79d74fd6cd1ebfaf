import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { CASES, SUITE_LIMITS, type FramingCase } from './framing-suite/cases';
import type { RecordingUpstream } from './framing-suite/upstream';
import type { Gateway } from './helpers/gateway';
import { startRecordedGateway, stopRecordedGateway } from './helpers/recorded-gateway';
import { rawRequest } from './helpers/raw';

/** How long a case waits for an answer the engine may never send (it holds such requests ~10 s). */
const HOLD_MS = 1_500;

let upstream: RecordingUpstream;
let gw: Gateway;
let port: number;

before(async () => {
  const limits = `clientMaxBodySize: ${SUITE_LIMITS.clientMaxBodySize}\nmaxHeaderCount: ${SUITE_LIMITS.maxHeaderCount}\nmaxHeaderBytes: ${SUITE_LIMITS.maxHeaderBytes}\n`;
  ({ upstream, gw, port } = await startRecordedGateway(limits, 1));
});

after(() => stopRecordedGateway({ gw, upstream }));

/** Polls a condition the upstream reaches asynchronously (bounded). */
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Sends the bytes, waits until the upstream saw the head (or a while), then vanishes. */
async function sendAndVanish(payload: string, target: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(payload, 'latin1');
  await eventually(() => upstream.seen(target).length > 0, 1_000);
  socket.destroy();
  return text;
}

async function run(c: FramingCase, target: string): Promise<void> {
  const payload = Buffer.from(c.payload(target), 'latin1');
  const e = c.expect;
  if (e.kind === 'aborted') {
    const text = await sendAndVanish(payload.toString('latin1'), target);
    assert.equal(text, '', 'no answer while the body is incomplete');
    const seen = upstream.seen(target);
    // The head went upstream while the body streamed: the abort path is exercised, not skipped.
    assert.equal(seen.length, 1, 'the upstream saw the request head');
    assert.ok(await eventually(() => seen.every((r) => r.closed), 2_000), 'the upstream request is aborted');
    assert.equal(seen.filter((r) => r.complete).length, 0, 'the upstream never sees a completed request');
    return;
  }
  const r = await rawRequest(port, payload, { maxMs: HOLD_MS, idleMs: 200 });
  const seen = upstream.seen(target);
  if (e.kind === 'cut') {
    assert.equal(r.text, '', 'no answer to a body the engine found malformed');
    assert.ok(await eventually(() => seen.every((r) => r.closed), 2_000), 'the upstream request is aborted');
    assert.ok(seen.length <= 1);
    assert.equal(seen.filter((r) => r.complete).length, 0, 'the upstream never sees a completed request');
    return;
  }
  if (e.kind === 'unanswered') {
    assert.equal(r.text, '', 'the engine answers nothing');
    assert.ok(seen.length <= 1);
    assert.equal(seen[0]?.body ?? '', '', 'at most the bodyless request the engine parsed');
    return;
  }
  if (e.kind === 'refused') {
    assert.match(r.text, new RegExp(`^HTTP/1\\.1 ${e.status} `), JSON.stringify(r.text));
    assert.equal(r.closed, true, 'closed after the refusal');
    assert.equal(seen.length, 0, 'nothing reaches the upstream');
  } else if (e.kind === 'dropped') {
    assert.equal(r.text, '', 'the engine answers nothing');
    assert.equal(seen.length, 0, 'nothing reaches the upstream');
  } else {
    assert.match(r.text, /^HTTP\/1\.1 200 [^]*\r\n\r\nok$/, JSON.stringify(r.text));
    assert.equal(seen.length, 1, 'exactly one request upstream');
    const got = seen[0] as NonNullable<(typeof seen)[0]>;
    assert.equal(got.complete, true);
    assert.equal(got.body, e.body);
    for (const [name, value] of Object.entries(e.headers ?? {})) {
      assert.deepEqual(got.headers.find(([k]) => k === name)?.[1] ?? null, value, `upstream header ${name}`);
    }
  }
}

describe(`framing suite (${CASES.length} raw requests)`, { concurrency: 24 }, () => {
  CASES.forEach((c, i) => {
    it(`${c.group}: ${c.name} → ${c.expect.kind}${c.expect.kind === 'refused' ? ` ${c.expect.status}` : ''}`, { timeout: 10_000 }, () => run(c, `/k${i}_`));
  });
});

describe('framing suite summary', () => {
  it('no smuggled request ever reached the upstream', () => {
    assert.ok(CASES.length >= 60);
    assert.equal(upstream.seen('/smuggled').length, 0);
    // Every request the upstream parsed belongs to exactly one case.
    const known = upstream.requests.filter((r) => /^\/k\d+_/.test(r.target)).length;
    assert.equal(known, upstream.requests.length);
  });
});
