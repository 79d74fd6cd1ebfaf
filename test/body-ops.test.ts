import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { BodyOps, bodyOpsSchema } from '../src/dataplane/body/body-ops';
import { collectStreamedBody } from '../src/dataplane/body/collect-streamed-body';
import { readRequestBodyUpTo } from '../src/dataplane/body/read-request-body';
import type { BodySink, StreamedBody } from '../src/dataplane/context';
import { RequestAdaptorFilter } from '../src/dataplane/filters/request-adaptor/filter';
import { requestAdaptorSchema } from '../src/dataplane/filters/request-adaptor/schema';
import { ResponseAdaptorFilter } from '../src/dataplane/filters/response-adaptor/filter';
import { responseAdaptorSchema } from '../src/dataplane/filters/response-adaptor/schema';
import { checked, makeContext } from './helpers/context';

function ops(spec: Record<string, unknown>): BodyOps {
  return new BodyOps(checked(bodyOpsSchema, spec));
}

async function drain(body: Readable | null): Promise<string> {
  assert.ok(body !== null);
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString();
}

/** A streamed body fed by hand, as an upstream exchange would feed it. */
class FakeStreamed implements StreamedBody {
  sink: BodySink | null = null;
  cancelled = false;
  constructor(readonly length = -1) {}
  pipeTo(sink: BodySink): void {
    this.sink = sink;
  }
  resume(): void {}
  cancel(): void {
    this.cancelled = true;
  }
}

describe('body operations', () => {
  it('sets and removes JSON fields by dot path, creating objects on the way and indexing arrays', () => {
    const o = ops({ set: { 'user.role': 'admin', 'meta.v': 2, 'items.1.ok': true, flag: { a: [1] } }, remove: ['secret', 'user.password', 'missing.deep'] });
    const out = o.apply(Buffer.from(JSON.stringify({ secret: 'x', user: { name: 'n', password: 'p' }, items: [{}, {}] })));
    assert.ok(Buffer.isBuffer(out));
    assert.deepEqual(JSON.parse(out.toString()), { user: { name: 'n', role: 'admin' }, items: [{}, { ok: true }], meta: { v: 2 }, flag: { a: [1] } });
    assert.deepEqual(JSON.parse((o.apply(Buffer.alloc(0)) as Buffer).toString()), { user: { role: 'admin' }, meta: { v: 2 }, items: { 1: { ok: true } }, flag: { a: [1] } });
  });

  it('says not-json for a body that is not a JSON object or array, and replace ignores the body', () => {
    assert.equal(ops({ set: { a: 1 } }).apply(Buffer.from('plain text')), 'not-json');
    assert.equal(ops({ remove: ['a'] }).apply(Buffer.from('42')), 'not-json');
    assert.equal((ops({ replace: 'fixed' }).apply(Buffer.from('anything')) as Buffer).toString(), 'fixed');
  });

  it('refuses replace together with JSON edits, and an empty body map', () => {
    assert.throws(() => ops({ replace: 'x', set: { a: 1 } }), /replace cannot be combined/);
    assert.throws(() => ops({}), /give replace, set or remove/);
  });
});

describe('readRequestBodyUpTo', () => {
  it('returns a body within the limit and leaves the same bytes on the request', async () => {
    const ctx = makeContext({ method: 'POST' });
    ctx.body = Readable.from([Buffer.from('ab'), Buffer.from('cd')]);
    ctx.bodyLength = -1;
    assert.equal((await readRequestBodyUpTo(ctx, 10))?.toString(), 'abcd');
    assert.equal(await drain(ctx.body), 'abcd');
  });

  it('gives up past the limit without losing a byte of the request body', async () => {
    const ctx = makeContext({ method: 'POST' });
    ctx.body = Readable.from([Buffer.from('0123'), Buffer.from('4567'), Buffer.from('89')]);
    ctx.bodyLength = -1;
    assert.equal(await readRequestBodyUpTo(ctx, 5), null);
    assert.equal(await drain(ctx.body), '0123456789');
  });

  it('does not read a body announced larger than the limit', async () => {
    const ctx = makeContext({ method: 'POST' });
    const original = Readable.from([Buffer.from('0123456789')]);
    ctx.body = original;
    ctx.bodyLength = 10;
    assert.equal(await readRequestBodyUpTo(ctx, 5), null);
    assert.equal(ctx.body, original);
  });
});

describe('collectStreamedBody', () => {
  it('collects chunks until the end', async () => {
    const s = new FakeStreamed();
    const p = collectStreamedBody(s, 10);
    assert.equal(s.sink?.write(Buffer.from('abc')), true);
    s.sink?.write(Buffer.from('de'));
    s.sink?.end();
    assert.equal(((await p) as Buffer).toString(), 'abcde');
  });

  it('cancels the upstream past the limit, at once when the announced length is over it', async () => {
    const s = new FakeStreamed();
    const p = collectStreamedBody(s, 4);
    assert.equal(s.sink?.write(Buffer.from('abcde')), false);
    assert.equal(await p, 'too-large');
    assert.ok(s.cancelled);
    const announced = new FakeStreamed(100);
    assert.equal(await collectStreamedBody(announced, 4), 'too-large');
    assert.ok(announced.cancelled);
  });

  it('reports an upstream that broke off', async () => {
    const s = new FakeStreamed();
    const p = collectStreamedBody(s, 10);
    s.sink?.write(Buffer.from('ab'));
    s.sink?.abort();
    assert.equal(await p, 'failed');
  });
});

describe('RequestAdaptor body', () => {
  function adaptor(spec: Record<string, unknown>): RequestAdaptorFilter {
    return new RequestAdaptorFilter('ra', checked(requestAdaptorSchema, { name: 'ra', kind: 'RequestAdaptor', ...spec }));
  }

  it('rewrites a JSON body and corrects Content-Length, dropping Transfer-Encoding', async () => {
    const ctx = makeContext({ method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
    ctx.body = Readable.from([Buffer.from('{"a":1,'), Buffer.from('"b":2}')]);
    ctx.bodyLength = -1;
    assert.equal(await adaptor({ body: { set: { c: 'x' }, remove: ['a'] } }).handle(ctx), '');
    const expected = '{"b":2,"c":"x"}';
    assert.equal(await drain(ctx.body), expected);
    assert.equal(ctx.bodyLength, expected.length);
    assert.equal(ctx.headers.get('content-length'), String(expected.length));
    assert.equal(ctx.headers.get('transfer-encoding'), undefined);
  });

  it('answers 413 for a body over maxBodySize and 400 for JSON edits of a non-JSON body', async () => {
    const big = makeContext({ method: 'POST' });
    big.body = Readable.from([Buffer.alloc(2048)]);
    big.bodyLength = 2048;
    assert.equal(await adaptor({ body: { replace: 'x' }, maxBodySize: '1k' }).handle(big), 'invalid');
    assert.equal(big.status, 413);
    const text = makeContext({ method: 'POST' });
    text.body = Readable.from([Buffer.from('hello')]);
    text.bodyLength = 5;
    assert.equal(await adaptor({ body: { set: { a: 1 } } }).handle(text), 'invalid');
    assert.equal(text.status, 400);
  });
});

describe('ResponseAdaptor body', () => {
  function adaptor(spec: Record<string, unknown>): ResponseAdaptorFilter {
    return new ResponseAdaptorFilter('rs', checked(responseAdaptorSchema, { name: 'rs', kind: 'ResponseAdaptor', ...spec }));
  }

  it('rewrites a streamed upstream body into a local one and drops headers that no longer hold', async () => {
    const ctx = makeContext();
    ctx.status = 200;
    ctx.responseHeaders.add('etag', '"abc"');
    ctx.responseHeaders.add('content-type', 'application/json');
    const s = new FakeStreamed();
    ctx.streamedBody = s;
    const running = adaptor({ body: { set: { added: true } } }).handle(ctx);
    s.sink?.write(Buffer.from('{"x":1}'));
    s.sink?.end();
    assert.equal(await running, '');
    assert.equal(ctx.streamedBody, null);
    assert.equal(String(ctx.responseBody), '{"x":1,"added":true}');
    assert.equal(ctx.responseHeaders.get('etag'), undefined);
    assert.equal(ctx.responseHeaders.get('content-type'), 'application/json');
  });

  it('answers 502 when the upstream body is over maxBodySize, and leaves a non-JSON body as it was', async () => {
    const ctx = makeContext();
    ctx.status = 200;
    const s = new FakeStreamed();
    ctx.streamedBody = s;
    const running = adaptor({ body: { replace: 'x' }, maxBodySize: 4 }).handle(ctx);
    s.sink?.write(Buffer.from('too long'));
    assert.equal(await running, 'serverError');
    assert.equal(ctx.status, 502);
    assert.equal(ctx.errorCode, 'NGATE_ERR_RESPONSE_TOO_LARGE');
    const local = makeContext();
    local.status = 200;
    local.responseBody = 'plain';
    assert.equal(adaptor({ body: { set: { a: 1 } } }).handle(local), '');
    assert.equal(String(local.responseBody), 'plain');
  });

  it('leaves bodyless responses alone', () => {
    const head = makeContext({ method: 'HEAD' });
    head.status = 200;
    const s = new FakeStreamed();
    head.streamedBody = s;
    assert.equal(adaptor({ body: { replace: 'x' } }).handle(head), '');
    assert.equal(head.streamedBody, s);
  });
});
