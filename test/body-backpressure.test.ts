import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { UpstreamExchange } from '../src/dataplane/upstream/exchange';
import { UwsBodySink } from '../src/dataplane/listener/uws-body-sink';
import type { Endpoint } from '../src/dataplane/balancer/endpoint';
import type { ServiceCounters } from '../src/dataplane/stats/counters';
import type { BodySink, StreamedBody } from '../src/dataplane/context';
import type { UwsHttpResponse } from '../src/dataplane/listener/uws-api';
import type { UwsExchange } from '../src/dataplane/listener/uws-listener';
import { makeContext } from './helpers/context';

const endpoint = { index: 0, begin: () => undefined, end: () => undefined } as unknown as Endpoint;
const counters = new Proxy({}, { get: () => () => undefined }) as ServiceCounters;

function recordingController(): Dispatcher.DispatchController & { pauses: number; resumes: number } {
  const c = { pauses: 0, resumes: 0, aborted: false, paused: false, reason: null, abort: () => undefined };
  return Object.assign(c, { pause: () => void c.pauses++, resume: () => void c.resumes++ }) as unknown as Dispatcher.DispatchController & { pauses: number; resumes: number };
}

/** A sink that takes `room` chunks, then asks to stop until `room` is raised. */
function stallingSink(room: number): BodySink & { kept: string[]; ends: number; room: number } {
  const sink = {
    kept: [] as string[],
    ends: 0,
    room,
    write(chunk: Buffer): boolean {
      sink.kept.push(chunk.toString());
      return sink.kept.length < sink.room;
    },
    end: () => void sink.ends++,
    abort: () => assert.fail('aborted'),
  };
  return sink;
}

describe('an upstream body the client cannot take yet', () => {
  it('stops handing over held chunks at the first refusal and continues, in order, on resume', () => {
    const controller = recordingController();
    const ex = new UpstreamExchange(makeContext(), endpoint, null, counters);
    ex.onRequestStart(controller);
    ex.onResponseHead(controller, 200, ['content-length', '9']);
    for (const piece of ['abc', 'def', 'ghi']) ex.onResponseData(controller, Buffer.from(piece));
    ex.onResponseEnd();
    const sink = stallingSink(1);
    ex.pipeTo(sink);
    assert.deepEqual(sink.kept, ['abc'], 'wrote past a refusal');
    assert.equal(sink.ends, 0, 'ended before the body was out');
    sink.room = 10;
    ex.resume();
    assert.deepEqual(sink.kept, ['abc', 'def', 'ghi']);
    assert.equal(sink.ends, 1);
    ex.resume();
    assert.equal(sink.ends, 1, 'ended twice');
  });

  it('queues chunks that arrive while held ones wait, and resumes the upstream only once they are out', () => {
    const controller = recordingController();
    const ex = new UpstreamExchange(makeContext(), endpoint, null, counters);
    ex.onRequestStart(controller);
    ex.onResponseHead(controller, 200, ['content-length', '9']);
    ex.onResponseData(controller, Buffer.from('abc'));
    ex.onResponseData(controller, Buffer.from('def'));
    const sink = stallingSink(1);
    ex.pipeTo(sink);
    assert.equal(controller.pauses, 1);
    // A connection that was paused can still deliver what it had read (a borrowed read buffer: copied).
    const read = Buffer.from('ghi');
    ex.onBorrowedData(controller, read);
    read.fill(0);
    ex.onResponseEnd();
    assert.deepEqual(sink.kept, ['abc']);
    sink.room = 2;
    ex.resume();
    assert.deepEqual(sink.kept, ['abc', 'def']);
    assert.equal(controller.resumes, 0, 'resumed the upstream while chunks still wait');
    sink.room = 10;
    ex.resume();
    assert.deepEqual(sink.kept, ['abc', 'def', 'ghi']);
    assert.equal(sink.ends, 1);
  });
});

/** A uWS response whose socket takes `room` more bytes, then refuses until drained. */
function fakeResponse(): UwsHttpResponse & { sent: Buffer[]; room: number; writable: ((offset: number) => boolean) | null; ended: boolean } {
  let offset = 0;
  const res = {
    sent: [] as Buffer[],
    room: 0,
    writable: null as ((offset: number) => boolean) | null,
    ended: false,
    cork: (cb: () => void) => (cb(), res),
    getWriteOffset: () => offset,
    tryEnd(chunk: Uint8Array, total: number): [boolean, boolean] {
      const take = Math.min(chunk.length, res.room);
      res.sent.push(Buffer.from(chunk.subarray(0, take)));
      res.room -= take;
      offset += take;
      res.ended = offset >= total;
      return [take === chunk.length, res.ended];
    },
    onWritable(handler: (offset: number) => boolean) {
      res.writable = handler;
      return res;
    },
  };
  return res as unknown as ReturnType<typeof fakeResponse>;
}

describe('the uWS body sink', () => {
  it('keeps a chunk written while an earlier one is still unsent behind it, so no byte is lost or reordered', () => {
    const res = fakeResponse();
    res.room = 2;
    const body: StreamedBody = { length: 8, pipeTo: () => undefined, resume: () => undefined, cancel: () => undefined };
    let finished = 0;
    const ex = { releasePipelined: () => undefined, finish: () => void finished++ } as unknown as UwsExchange;
    const sink = new UwsBodySink(res, makeContext(), body, ex);
    assert.equal(sink.write(Buffer.from('abcd')), false);
    assert.equal(sink.write(Buffer.from('efgh')), false);
    res.room = 100;
    assert.ok(res.writable !== null);
    assert.equal(res.writable(2), true);
    assert.equal(Buffer.concat(res.sent).toString(), 'abcdefgh');
    assert.equal(finished, 1);
  });
});
