import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { BodyOps, bodyOpsSchema } from '../src/dataplane/body/body-ops';
import { MAX_JSON_DEPTH } from '../src/dataplane/body/exact-json';
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

  it('refuses a document nested deeper than MAX_JSON_DEPTH before parsing it, brackets in strings not counted', () => {
    const deep = (n: number, open = '[', close = ']') => `{"a":${open.repeat(n - 1)}${close.repeat(n - 1)}}`;
    const o = ops({ set: { b: 1 } });
    assert.equal(String(o.apply(Buffer.from(deep(MAX_JSON_DEPTH)))), `${deep(MAX_JSON_DEPTH).slice(0, -1)},"b":1}`);
    assert.equal(o.apply(Buffer.from(deep(MAX_JSON_DEPTH + 1))), 'too-deep');
    assert.equal(o.apply(Buffer.from(`{"a":${'{"x":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}}`)), 'too-deep');
    assert.equal(ops({ remove: ['a'] }).apply(Buffer.from('['.repeat(100_000))), 'too-deep');
    assert.equal(o.apply(Buffer.from('['.repeat(450_000) + ']'.repeat(450_000))), 'too-deep');
    const inString = `{"s":"${'['.repeat(MAX_JSON_DEPTH * 2)}\\\\"}`;
    assert.equal(String(o.apply(Buffer.from(inString))), `${inString.slice(0, -1)},"b":1}`);
    // Depth, not the number of brackets: many shallow siblings pass.
    const wide = `{"a":[${Array(MAX_JSON_DEPTH * 2).fill('[{}]').join(',')}]}`;
    assert.equal(String(o.apply(Buffer.from(wide))), `${wide.slice(0, -1)},"b":1}`);
    // A fragile number on the way does not change the count.
    assert.equal(o.apply(Buffer.from(`{"n":1.0,"a":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`)), 'too-deep');
  });

  it('calls a text with many brackets that is not JSON up to the deep point not-json, not too deep', () => {
    const o = ops({ set: { b: 1 } });
    const brackets = '['.repeat(MAX_JSON_DEPTH + 1);
    for (const text of [`<html><script>var a = ${brackets};</script>`, `x${brackets}`, `[a${brackets}`, `{"a" ${brackets}`, `[1 ${brackets}`, `{${brackets}`, `[]${brackets}`, `[${'{}'.repeat(3)}${brackets}`, `["\\x"${brackets}`]) {
      assert.equal(o.apply(Buffer.from(text)), 'not-json', text.slice(0, 30));
    }
    // JSON up to the deep point is too deep, whatever follows.
    for (const text of [` \n${brackets}`, `{"a": [1, -2.5e3, "s\\"", true, null, {"k": ${brackets}`, `[[], {}, ${brackets}junk`]) {
      assert.equal(o.apply(Buffer.from(text)), 'too-deep', text.slice(0, 30));
    }
  });

  it('replaces any value on a set path that cannot hold the next segment, so a field cannot be dodged', () => {
    const o = ops({ set: { 'user.role': 'admin' } });
    const edit = (body: string) => String(o.apply(Buffer.from(body)));
    assert.equal(edit('{"user":[1,2]}'), '{"user":{"role":"admin"}}');
    assert.equal(edit('{"user":"str"}'), '{"user":{"role":"admin"}}');
    assert.equal(edit('{"user":null}'), '{"user":{"role":"admin"}}');
    assert.equal(edit('{"user":7}'), '{"user":{"role":"admin"}}');
    assert.equal(edit('{"user":{"role":"guest","n":1}}'), '{"user":{"role":"admin","n":1}}');
    // A root that set cannot address has nothing to be replaced in: refused.
    assert.equal(o.apply(Buffer.from('[1,2]')), 'not-object');
    assert.equal(o.apply(Buffer.from('[]')), 'not-object');
    // Index segments still index arrays (0..length, length appends); others replace the array.
    const idx = ops({ set: { 'items.1.ok': true } });
    assert.equal(String(idx.apply(Buffer.from('{"items":[{},{}]}'))), '{"items":[{},{"ok":true}]}');
    assert.equal(String(idx.apply(Buffer.from('{"items":[{}]}'))), '{"items":[{},{"ok":true}]}');
    assert.equal(String(idx.apply(Buffer.from('{"items":[]}'))), '{"items":{"1":{"ok":true}}}');
    assert.equal(String(idx.apply(Buffer.from('{"items":[{},"s"]}'))), '{"items":[{},{"ok":true}]}');
    assert.equal(String(ops({ set: { 'items.0x1': 1 } }).apply(Buffer.from('{"items":[0,0]}'))), '{"items":{"0x1":1}}');
    assert.equal(String(ops({ set: { '0.ok': true } }).apply(Buffer.from('[{}]'))), '[{"ok":true}]');
    assert.equal(String(ops({ set: { '2': true, '3': 4 } }).apply(Buffer.from('[1,2,3]'))), '[1,2,true,4]');
    // Each root path is checked as it applies, after the sets before it: appending in order works.
    assert.equal(String(ops({ set: { '0': 'a', '1': 'b' } }).apply(Buffer.from('[]'))), '["a","b"]');
    assert.equal(String(ops({ set: { '0': 'a', '1': 'b', '2.c': 1 } }).apply(Buffer.alloc(0))), '{"0":"a","1":"b","2":{"c":1}}');
    assert.equal(ops({ set: { '0': 'a', '2': 'c' } }).apply(Buffer.from('[]')), 'not-object');
    assert.equal(ops({ set: { '0': 'a', x: 1 } }).apply(Buffer.from('[]')), 'not-object');
    // The root check sees the body after the removes.
    assert.equal(ops({ remove: ['0'], set: { '2': 1 } }).apply(Buffer.from('[1,2]')), 'not-object');
  });

  it('removes only what a path names, whatever type the client puts on the way', () => {
    const o = ops({ remove: ['user.token', 'list.1'] });
    const edit = (body: string) => String(o.apply(Buffer.from(body)));
    assert.equal(edit('{"user":{"token":"t","n":1},"list":[0,1,2]}'), '{"user":{"n":1},"list":[0,2]}');
    assert.equal(edit('{"user":["token"],"list":{"1":"x","2":"y"}}'), '{"user":["token"],"list":{"2":"y"}}');
    assert.equal(edit('{"user":"token","list":"1"}'), '{"user":"token","list":"1"}');
    assert.equal(edit('[{"token":1}]'), '[{"token":1}]');
  });

  it('sets and removes own members only: __proto__ and constructor are plain keys', () => {
    const o = ops({ set: { '__proto__.polluted': 1, 'constructor.x': 2 } });
    const out = String(o.apply(Buffer.from('{"a":1}')));
    assert.deepEqual(JSON.parse(out), JSON.parse('{"a":1,"__proto__":{"polluted":1},"constructor":{"x":2}}'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(String(ops({ remove: ['__proto__'] }).apply(Buffer.from('{"__proto__":{"a":1},"b":2}'))), '{"b":2}');
  });

  it('refuses replace together with JSON edits, and an empty body map', () => {
    assert.throws(() => ops({ replace: 'x', set: { a: 1 } }), /replace cannot be combined/);
    assert.throws(() => ops({}), /give replace, set or remove/);
  });

  it('refuses dot paths with an empty segment, naming the field, in set and remove of both adaptors', () => {
    for (const bad of ['a..b', '', '.a', 'a.']) {
      assert.throws(() => ops({ set: { ok: 1, [bad]: 1 } }), new RegExp(`set\\.${bad.replace(/\./g, '\\.')}: .*empty segment`));
      assert.throws(() => ops({ remove: ['ok', bad] }), bad === '' ? /remove\.1: must not be empty/ : /remove\.1: .*empty segment/);
    }
    const issues = (schema: typeof requestAdaptorSchema | typeof responseAdaptorSchema, kind: string): string[] => {
      const found: { path: (string | number)[]; message: string }[] = [];
      schema.check({ name: 'x', kind, body: { set: { 'a..b': 1 }, remove: ['c.'] } }, [], found);
      return found.map((i) => i.path.join('/'));
    };
    assert.deepEqual(issues(requestAdaptorSchema, 'RequestAdaptor'), ['body/set/a..b', 'body/remove/0']);
    assert.deepEqual(issues(responseAdaptorSchema, 'ResponseAdaptor'), ['body/set/a..b', 'body/remove/0']);
  });

  it('passes numbers a JS number would change through exactly as written', () => {
    const o = ops({ set: { 'user.role': 'admin' }, remove: ['gone'] });
    const edit = (text: string): string => (o.apply(Buffer.from(text)) as Buffer).toString();
    assert.equal(edit('{"id":9007199254740993}'), '{"id":9007199254740993,"user":{"role":"admin"}}');
    assert.equal(
      edit('{"a":[12345678901234567890123,-0,1.0,1e5,1E+2,0.1,-12,123456789012345,0.30000000000000004,-1.5e-7],"gone":99999999999999999999}'),
      '{"a":[12345678901234567890123,-0,1.0,1e5,1E+2,0.1,-12,123456789012345,0.30000000000000004,-1.5e-7],"user":{"role":"admin"}}',
    );
    // Number-like text in strings and keys is left to JSON, escaped quotes included.
    assert.equal(edit('{"s":"9007199254740993 \\"1.0\\"","9007199254740993":{"n":1.50}}'), '{"s":"9007199254740993 \\"1.0\\"","9007199254740993":{"n":1.50},"user":{"role":"admin"}}');
    // A body holding the placeholder marker still comes out exact.
    assert.equal(edit('{"m":"~ngate-n0","n":1.0}'), '{"m":"~ngate-n0","n":1.0,"user":{"role":"admin"}}');
    assert.equal(edit('{"m":"\\"~ngate-n0\\"","n":1.0}'), '{"m":"\\"~ngate-n0\\"","n":1.0,"user":{"role":"admin"}}');
    // A configured value holding the marker is not mistaken for a placeholder.
    const marked = ops({ set: { v: '~ngate-n0' } });
    assert.equal((marked.apply(Buffer.from('{"n":1.0}')) as Buffer).toString(), '{"n":1.0,"v":"~ngate-n0"}');
    // An edit replacing a kept number drops it; one under it replaces it with an object.
    assert.equal((ops({ set: { 'n.x': 1 } }).apply(Buffer.from('{"n":1e400}')) as Buffer).toString(), '{"n":{"x":1}}');
  });

  it('still refuses malformed numbers that a placeholder would hide', () => {
    const o = ops({ set: { a: 1 } });
    for (const bad of ['{"n":1.2.3}', '{"n":01.0}', '{"n":1e5e5}', '{12345678901234567890:1}', '{12345678901234567890 :1}', '[-]', '{"n":1.}', '{"n":.5}']) {
      assert.equal(o.apply(Buffer.from(bad)), 'not-json', bad);
    }
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

  it('leaves a request without a body, or with an empty one, without a body under JSON edits', async () => {
    for (const method of ['GET', 'HEAD', 'DELETE']) {
      const ctx = makeContext({ method });
      assert.equal(await adaptor({ body: { set: { 'user.role': 'admin' } } }).handle(ctx), '');
      assert.equal(ctx.hasBody, false, method);
      assert.equal(ctx.headers.get('content-length'), undefined, method);
    }
    const empty = makeContext({ method: 'POST', headers: { 'content-length': '0' } });
    empty.body = Readable.from([Buffer.alloc(0)]);
    assert.equal(await adaptor({ body: { remove: ['a'] } }).handle(empty), '');
    assert.equal(await drain(empty.body), '');
    assert.equal(empty.headers.get('content-length'), '0');
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

describe('RequestAdaptor body refusals', () => {
  it('answers 400 for a body nested too deep and for an array root where a field is set', async () => {
    const adaptor = new RequestAdaptorFilter('ra', checked(requestAdaptorSchema, { name: 'ra', kind: 'RequestAdaptor', body: { set: { 'user.role': 'admin' } } }));
    for (const [body, message] of [
      ['['.repeat(100_000), /nested deeper than 512 levels/],
      ['[1,2]', /is an array the RequestAdaptor set paths cannot address/],
    ] as const) {
      const ctx = makeContext({ method: 'POST' });
      ctx.body = Readable.from([Buffer.from(body)]);
      ctx.bodyLength = body.length;
      assert.equal(await adaptor.handle(ctx), 'invalid');
      assert.equal(ctx.status, 400);
      assert.equal(ctx.errorCode, 'NGATE_ERR_BAD_REQUEST');
      assert.match(String(ctx.responseBody), message);
    }
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
    ctx.responseHeaders.add('content-md5', 'Q2hlY2sgSW50ZWdyaXR5IQ==');
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
    assert.equal(ctx.responseHeaders.get('content-md5'), undefined);
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

  it('answers 502 for an upstream body nested too deep, 500 for such a local body, and passes an array root on', async () => {
    const deep = Buffer.from('['.repeat(100_000));
    const ctx = makeContext();
    ctx.status = 200;
    const s = new FakeStreamed();
    ctx.streamedBody = s;
    const running = adaptor({ body: { set: { a: 1 } } }).handle(ctx);
    s.sink?.write(deep);
    s.sink?.end();
    assert.equal(await running, 'serverError');
    assert.equal(ctx.status, 502);
    assert.equal(ctx.errorCode, 'NGATE_ERR_UPSTREAM_PROTOCOL');
    assert.match(String(ctx.responseBody), /at most 512 levels deep/);
    for (const method of ['GET', 'HEAD']) {
      const local = makeContext({ method });
      local.status = 200;
      local.responseBody = deep;
      assert.equal(adaptor({ body: { remove: ['a'] } }).handle(local), 'serverError', method);
      assert.equal(local.status, 500, method);
      assert.equal(local.errorCode, 'NGATE_ERR_INTERNAL', method);
    }
    // Not JSON at all (a page with many brackets): left as it was, as any non-JSON body.
    const page = Buffer.from(`<html><script>x = ${'['.repeat(600)}</script></html>`);
    const html = makeContext();
    html.status = 200;
    const hs = new FakeStreamed();
    html.streamedBody = hs;
    const rewriting = adaptor({ body: { set: { a: 1 } } }).handle(html);
    hs.sink?.write(page);
    hs.sink?.end();
    assert.equal(await rewriting, '');
    assert.equal(html.status, 200);
    assert.equal(String(html.responseBody), String(page));
    const list = makeContext();
    list.status = 200;
    list.responseBody = '[1,2]';
    list.responseHeaders.add('etag', '"x"');
    assert.equal(adaptor({ body: { set: { a: 1 } } }).handle(list), '');
    assert.equal(String(list.responseBody), '[1,2]');
    assert.equal(list.responseHeaders.get('etag'), '"x"');
  });

  it('gives an upstream HEAD response the header fields and length the edited GET would have', () => {
    const head = (body: Record<string, unknown>, headers: Record<string, string>, status = 200): [Record<string, string | undefined>, number] => {
      const ctx = makeContext({ method: 'HEAD' });
      ctx.status = status;
      for (const [k, v] of Object.entries(headers)) ctx.responseHeaders.add(k, v);
      const s = new FakeStreamed(7);
      ctx.streamedBody = s;
      assert.equal(adaptor({ body }).handle(ctx), '');
      // The (empty) upstream body still flows, so the upstream exchange completes.
      const sink = { write: () => true, end: () => {}, abort: () => {} } as unknown as BodySink;
      ctx.streamedBody?.pipeTo(sink);
      assert.equal(s.sink, sink);
      const fields = Object.fromEntries(['etag', 'content-length', 'content-md5', 'content-encoding', 'content-type'].map((k) => [k, ctx.responseHeaders.get(k)]));
      return [fields, ctx.streamedBody?.length ?? -2];
    };
    const upstream = { etag: '"abc"', 'content-length': '7', 'content-md5': 'Q2hlY2sgSW50ZWdyaXR5IQ==', 'content-type': 'application/json' };
    const dropped = { etag: undefined, 'content-length': undefined, 'content-md5': undefined, 'content-encoding': undefined, 'content-type': 'application/json' };
    assert.deepEqual(head({ set: { a: 1 } }, upstream), [dropped, -1]);
    assert.deepEqual(head({ replace: 'xyz' }, { ...upstream, 'content-encoding': 'gzip' }), [dropped, 3]);
    // A coded body never parses as JSON, so the GET passes it unchanged: the HEAD keeps its fields too.
    assert.deepEqual(head({ set: { a: 1 } }, { ...upstream, 'content-encoding': 'gzip' }), [{ ...upstream, 'content-encoding': 'gzip' }, 7]);
    assert.deepEqual(head({ set: { a: 1 } }, upstream, 304), [{ ...upstream, 'content-encoding': undefined }, 7]);
  });

  it('edits a local HEAD body as for GET (the listener frames its length) and leaves 204 alone', () => {
    const head = makeContext({ method: 'HEAD' });
    head.status = 200;
    head.responseBody = '{"a":1}';
    head.responseHeaders.add('etag', '"abc"');
    assert.equal(adaptor({ body: { set: { b: 2 } } }).handle(head), '');
    assert.equal(String(head.responseBody), '{"a":1,"b":2}');
    assert.equal(head.responseHeaders.get('etag'), undefined);
    const none = makeContext();
    none.status = 204;
    const s = new FakeStreamed();
    none.streamedBody = s;
    assert.equal(adaptor({ body: { replace: 'x' } }).handle(none), '');
    assert.equal(none.streamedBody, s);
  });
});
