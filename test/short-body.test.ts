import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { UpstreamExchange } from '../src/dataplane/upstream/exchange';
import { UwsBodySink } from '../src/dataplane/listener/uws-body-sink';
import { NodeBodySink } from '../src/dataplane/listener/node-body-sink';
import type { Endpoint } from '../src/dataplane/balancer/endpoint';
import type { ServiceCounters } from '../src/dataplane/stats/counters';
import type { BodySink, StreamedBody } from '../src/dataplane/context';
import type { UwsHttpResponse } from '../src/dataplane/listener/uws-api';
import type { UwsExchange } from '../src/dataplane/listener/uws-listener';
import type { NodeResponse } from '../src/dataplane/listener/node-exchange';
import { makeContext } from './helpers/context';

const endpoint = { index: 0, begin: () => undefined, end: () => undefined } as unknown as Endpoint;
const controller = { pause: () => undefined, resume: () => undefined, abort: () => undefined, aborted: false, paused: false, reason: null } as unknown as Dispatcher.DispatchController;

/** Counters that record the failures and endpoint outcomes they are told. */
function recordingCounters(): ServiceCounters & { failures: string[]; outcomes: boolean[] } {
  const c = { failures: [] as string[], outcomes: [] as boolean[] };
  return new Proxy(c, {
    get: (target, name) => {
      if (name === 'failures' || name === 'outcomes') return target[name];
      if (name === 'failure') return (code: string) => void target.failures.push(code);
      if (name === 'outcome') return (_i: number, ok: boolean) => void target.outcomes.push(ok);
      return () => undefined;
    },
  }) as unknown as ServiceCounters & { failures: string[]; outcomes: boolean[] };
}

function sink(): BodySink & { kept: string; ends: number; aborts: number } {
  const s = {
    kept: '',
    ends: 0,
    aborts: 0,
    write: (c: Buffer) => ((s.kept += c.toString()), true),
    end: () => void s.ends++,
    abort: () => void s.aborts++,
  };
  return s;
}

describe('an upstream body that ends short of its content-length', () => {
  it('aborts the client side once the sink is piped, never ends it cleanly', () => {
    const counters = recordingCounters();
    const ctx = makeContext();
    const ex = new UpstreamExchange(ctx, endpoint, null, counters);
    ex.onRequestStart(controller);
    ex.onResponseHead(controller, 200, ['content-length', '100']);
    const s = sink();
    ex.pipeTo(s);
    ex.onResponseData(controller, Buffer.from('abcd'));
    ex.onResponseEnd();
    assert.equal(s.kept, 'abcd');
    assert.equal(s.ends, 0, 'a short body ended cleanly');
    assert.equal(s.aborts, 1);
  });

  it('aborts a sink piped after the short end too', () => {
    const ex = new UpstreamExchange(makeContext(), endpoint, null, recordingCounters());
    ex.onRequestStart(controller);
    ex.onResponseHead(controller, 200, ['content-length', '100']);
    const s = sink();
    ex.pipeTo(s);
    ex.onResponseData(controller, Buffer.from('ab'));
    ex.onResponseEnd();
    assert.deepEqual([s.ends, s.aborts], [0, 1]);
  });

  it('answers 502 when it ends before the listener piped anything', () => {
    const counters = recordingCounters();
    const ctx = makeContext();
    const ex = new UpstreamExchange(ctx, endpoint, null, counters);
    ex.onRequestStart(controller);
    ex.onResponseHead(controller, 200, ['content-length', '100', 'x-up', '1']);
    ex.onResponseData(controller, Buffer.from('abcd'));
    ex.onResponseEnd();
    assert.equal(ctx.status, 502);
    assert.equal(ctx.errorCode, 'NGATE_ERR_UPSTREAM_RESET');
    assert.equal(ctx.streamedBody, null);
    assert.equal(ctx.responseHeaders.get('x-up'), undefined, "the upstream's headers are gone");
    assert.deepEqual(counters.failures, ['NGATE_ERR_UPSTREAM_RESET']);
    assert.equal(counters.outcomes.at(-1), false);
  });

  it('ends cleanly when the whole length arrived, and for a HEAD or 304 that announces one', () => {
    for (const [method, status, data] of [['GET', 200, 'abcd'], ['HEAD', 200, ''], ['GET', 304, '']] as const) {
      const ex = new UpstreamExchange(makeContext({ method }), endpoint, null, recordingCounters());
      ex.onRequestStart(controller);
      ex.onResponseHead(controller, status, ['content-length', '4']);
      const s = sink();
      ex.pipeTo(s);
      if (data !== '') ex.onResponseData(controller, Buffer.from(data));
      ex.onResponseEnd();
      assert.deepEqual([s.ends, s.aborts], [1, 0], `${method} ${status}`);
    }
  });
});

describe('an upstream body that breaks before the listener piped it', () => {
  it('answers 502 NGATE_ERR_UPSTREAM_PROTOCOL for a malformed body, with nothing of the upstream response left', () => {
    const counters = recordingCounters();
    const ctx = makeContext();
    const ex = new UpstreamExchange(ctx, endpoint, null, counters);
    ex.onRequestStart(controller);
    ex.onResponseHead(controller, 200, ['transfer-encoding', 'chunked', 'x-up', '1']);
    ex.onResponseError(controller, Object.assign(new Error('invalid chunk size'), { code: 'HPE_INVALID_CHUNK_SIZE' }));
    assert.equal(ctx.status, 502);
    assert.equal(ctx.errorCode, 'NGATE_ERR_UPSTREAM_PROTOCOL');
    assert.equal(ctx.streamedBody, null);
    assert.equal(ctx.responseHeaders.get('x-up'), undefined);
    assert.deepEqual(counters.failures, ['NGATE_ERR_UPSTREAM_PROTOCOL']);
  });

  it('leaves the context alone when the exchange itself cancelled the upstream', () => {
    const ctx = makeContext();
    const ex = new UpstreamExchange(ctx, endpoint, null, recordingCounters());
    ex.onRequestStart(controller);
    ex.onResponseHead(controller, 200, ['content-length', '10']);
    ex.cancel();
    ex.onResponseError(controller, new Error('client aborted'));
    assert.equal(ctx.status, 200);
    assert.equal(ctx.errorCode, null);
  });
});

describe('the body sinks, told to end a body shorter than its length', () => {
  const body: StreamedBody = { length: 100, pipeTo: () => undefined, resume: () => undefined, cancel: () => undefined };

  it('uWS: closes the connection instead of leaving the response open', () => {
    const calls: string[] = [];
    const res = {
      cork: (cb: () => void) => (cb(), res),
      getWriteOffset: () => 0,
      tryEnd: () => [true, false],
      end: () => void calls.push('end'),
      close: () => void calls.push('close'),
    } as unknown as UwsHttpResponse;
    let finished = 0;
    const ex = { releasePipelined: () => undefined, finish: () => void finished++ } as unknown as UwsExchange;
    const s = new UwsBodySink(res, makeContext(), body, ex);
    s.write(Buffer.from('abcd'));
    s.end();
    assert.deepEqual(calls, ['close']);
    assert.equal(finished, 1);
  });

  it('node: destroys the response instead of ending it', () => {
    const calls: string[] = [];
    const res = { write: () => true, end: () => void calls.push('end'), destroy: () => void calls.push('destroy') } as unknown as NodeResponse;
    let finished = 0;
    const s = new NodeBodySink(res, makeContext(), body, () => void finished++);
    s.write(Buffer.from('abcd'));
    s.end();
    assert.deepEqual(calls, ['destroy']);
    assert.equal(finished, 1);
  });
});
