import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { UpstreamExchange } from '../src/dataplane/upstream/exchange';
import type { Endpoint } from '../src/dataplane/balancer/endpoint';
import type { ServiceCounters } from '../src/dataplane/stats/counters';
import type { BodySink } from '../src/dataplane/context';
import { makeContext } from './helpers/context';

const endpoint = { index: 0, begin: () => undefined, end: () => undefined } as unknown as Endpoint;
const counters = new Proxy({}, { get: () => () => undefined }) as ServiceCounters;
const controller = { pause: () => undefined, resume: () => undefined, abort: () => undefined, aborted: false, paused: false, reason: null } as unknown as Dispatcher.DispatchController;

/** An exchange whose head arrived and whose first body bytes came in the connection's shared read buffer. */
function withEarlyBody(fill: number): { ex: UpstreamExchange; readBuffer: Buffer } {
  const ex = new UpstreamExchange(makeContext(), endpoint, null, counters);
  ex.onResponseHead(controller, 200, ['content-length', '1000']);
  const readBuffer = Buffer.alloc(1000, fill);
  ex.onBorrowedData(controller, readBuffer);
  return { ex, readBuffer };
}

function collector(borrows: boolean): BodySink & { kept: Buffer[] } {
  const kept: Buffer[] = [];
  return { borrows, kept, write: (c: Buffer) => kept.push(c) > 0, end: () => undefined, abort: () => undefined };
}

describe('body bytes that arrive before the sink', () => {
  it('are copied out of the read buffer, and a sink that keeps them owns the copy', () => {
    const first = withEarlyBody(1);
    first.readBuffer.fill(9); // the next read lands in the same buffer
    const keeper = collector(false);
    first.ex.pipeTo(keeper);
    // Another response's early bytes must not reuse the kept chunk's memory.
    withEarlyBody(2).ex.pipeTo(collector(true));
    assert.equal(keeper.kept.length, 1);
    assert.ok(keeper.kept[0]?.every((b) => b === 1), 'the kept chunk changed after it was handed over');
  });

  it('go back for reuse once a sink that copies what it keeps took them', () => {
    const first = withEarlyBody(1);
    const borrower = collector(true);
    first.ex.pipeTo(borrower);
    const memory = borrower.kept[0]?.buffer;
    const second = withEarlyBody(2);
    const next = collector(true);
    second.ex.pipeTo(next);
    assert.equal(next.kept[0]?.buffer, memory, 'the second response did not reuse the first one\'s held copy');
    assert.ok(next.kept[0]?.every((b) => b === 2));
  });

  it('pack many small pieces (chunked framing) into shared buffers', () => {
    const ex = new UpstreamExchange(makeContext(), endpoint, null, counters);
    ex.onResponseHead(controller, 200, ['transfer-encoding', 'chunked']);
    const read = Buffer.alloc(10);
    for (let i = 0; i < 8_000; i++) ex.onBorrowedData(controller, read.fill(i % 256));
    const keeper = collector(false);
    ex.pipeTo(keeper);
    assert.equal(keeper.kept.length, 8_000);
    const memories = new Set(keeper.kept.map((c) => c.buffer));
    assert.ok(memories.size <= 2, `80,000 bytes held in ${memories.size} buffers`);
    keeper.kept.forEach((c, i) => assert.ok(c.every((b) => b === i % 256), `piece ${i} changed`));
  });
});
