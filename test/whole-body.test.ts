import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { UpstreamExchange } from '../src/dataplane/upstream/exchange';
import type { Endpoint } from '../src/dataplane/balancer/endpoint';
import type { ServiceCounters } from '../src/dataplane/stats/counters';
import { NULL_SINK } from '../src/dataplane/listener/request-core';
import { makeContext } from './helpers/context';

const endpoint = { index: 0, begin: () => undefined, end: () => undefined } as unknown as Endpoint;
const controller = { pause: () => undefined, resume: () => undefined, abort: () => undefined, aborted: false, paused: false, reason: null } as unknown as Dispatcher.DispatchController;

/** Counters that record the endpoint outcomes they are told (and ignore the rest). */
function outcomeCounters(): ServiceCounters & { outcomes: boolean[] } {
  const outcomes: boolean[] = [];
  return new Proxy({ outcomes }, {
    get: (target, name) => (name === 'outcomes' ? target.outcomes : name === 'outcome' ? (_i: number, ok: boolean) => void outcomes.push(ok) : () => undefined),
  }) as unknown as ServiceCounters & { outcomes: boolean[] };
}

function exchange(headers: string[], counters = outcomeCounters()): UpstreamExchange {
  const ex = new UpstreamExchange(makeContext(), endpoint, null, counters);
  ex.onRequestStart(controller);
  ex.onResponseHead(controller, 200, headers);
  return ex;
}

describe('a response body that arrived whole before the listener wrote the head', () => {
  it('is handed over as one buffer, a copy of borrowed bytes that the next read may overwrite', () => {
    const ex = exchange(['content-length', '5']);
    const read = Buffer.from('hello');
    ex.onBorrowedData(controller, read);
    ex.onResponseEnd();
    read.fill(0x78); // the connection's next read reuses its buffer
    assert.equal(ex.wholeBody()?.toString(), 'hello');
  });

  it('joins a body that came in several pieces', () => {
    const ex = exchange(['content-length', '6']);
    ex.onBorrowedData(controller, Buffer.from('abc'));
    ex.onResponseData(controller, Buffer.from('def'));
    ex.onResponseEnd();
    assert.equal(ex.wholeBody()?.toString(), 'abcdef');
  });

  it('is empty for a Content-Length of 0', () => {
    const ex = exchange(['content-length', '0']);
    ex.onResponseEnd();
    assert.equal(ex.wholeBody()?.length, 0);
  });

  it('is not offered while the body is still arriving', () => {
    const ex = exchange(['content-length', '6']);
    ex.onResponseData(controller, Buffer.from('abc'));
    assert.equal(ex.wholeBody(), null);
  });

  it('is not offered before the end is reported, even with every byte in (h2 trailers may still follow)', () => {
    const ex = exchange(['content-length', '3']);
    ex.onResponseData(controller, Buffer.from('abc'));
    assert.equal(ex.wholeBody(), null);
  });

  it('is not offered without a length (chunked: framing and trailers stay the sink\'s)', () => {
    const ex = exchange(['transfer-encoding', 'chunked']);
    ex.onResponseData(controller, Buffer.from('abc'));
    ex.onResponseEnd();
    assert.equal(ex.wholeBody(), null);
  });

  it('is not offered when trailers must follow it', () => {
    const ex = exchange(['content-length', '3']);
    ex.onResponseData(controller, Buffer.from('abc'));
    ex.onResponseEnd(controller, { 'x-checksum': '1' });
    assert.notEqual(ex.trailers, null);
    assert.equal(ex.wholeBody(), null);
  });

  it('is not offered once a sink is piped', () => {
    const ex = exchange(['content-length', '3']);
    ex.pipeTo({ write: () => true, end: () => undefined, abort: () => undefined });
    ex.onResponseData(controller, Buffer.from('abc'));
    ex.onResponseEnd();
    assert.equal(ex.wholeBody(), null);
  });

  it('counts the endpoint outcome once when the written body is then piped to a sink that drops it', () => {
    const counters = outcomeCounters();
    const ex = exchange(['content-length', '2'], counters);
    ex.onBorrowedData(controller, Buffer.from('ok'));
    ex.onResponseEnd();
    assert.equal(ex.wholeBody()?.toString(), 'ok');
    ex.pipeTo(NULL_SINK);
    assert.deepEqual(counters.outcomes, [true]);
  });
});
