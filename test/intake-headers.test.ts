import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderList } from '../src/dataplane/headers';
import { intakeHeaders, MAX_NOMINATED } from '../src/dataplane/listener/intake-headers';

function run(fields: string[], edge = true): { refusal: string | null; items: string[] } {
  const headers = new HeaderList([...fields]);
  return { refusal: intakeHeaders(headers, edge, { clientClose: false }), items: headers.items };
}

describe('intakeHeaders', () => {
  it('leaves the request as is when Connection lists only connection options, in any case and spacing', () => {
    for (const value of ['keep-alive', 'Close', ' keep-alive ,\tUpgrade', ', ,TE,', 'Upgrade, HTTP2-Settings']) {
      const fields = ['host', 'x', 'connection', value, 'te', 'trailers', 'upgrade', 'websocket', 'x-a', '1'];
      const r = run(fields);
      assert.equal(r.refusal, null, value);
      assert.deepEqual(r.items, fields, value);
    }
  });

  it('removes every copy of each nominated field, from every Connection field', () => {
    const r = run(['host', 'x', 'connection', 'keep-alive', 'x-a', '1', 'connection', 'X-B , x-a', 'x-b', '2', 'x-a', '3', 'x-c', '4']);
    assert.equal(r.refusal, null);
    assert.deepEqual(r.items, ['host', 'x', 'connection', 'keep-alive', 'connection', 'X-B , x-a', 'x-c', '4']);
  });

  it('refuses nominations of fields ngate relies on', () => {
    for (const name of ['Host', 'content-length', 'X-Forwarded-For', 'x-forwarded-proto', 'x-forwarded-host']) {
      assert.equal(run(['host', 'x', 'connection', `x-a, ${name}`]).refusal, `Connection nominates ${name.toLowerCase()}`);
      assert.equal(run(['host', 'x', 'connection', name], false).refusal, `Connection nominates ${name.toLowerCase()}`);
    }
  });

  it('refuses a Connection field nominating more distinct fields than the cap; repeats count once', () => {
    const names = (n: number): string => Array.from({ length: n }, (_, i) => `x-${i}`).join(', ');
    assert.equal(run(['host', 'x', 'connection', names(MAX_NOMINATED)]).refusal, null);
    assert.equal(run(['host', 'x', 'connection', `${names(MAX_NOMINATED)}, x-0, X-1`]).refusal, null);
    assert.equal(run(['host', 'x', 'connection', names(MAX_NOMINATED + 1)]).refusal, `Connection nominates more than ${MAX_NOMINATED} fields`);
    assert.equal(run(['host', 'x', 'connection', names(MAX_NOMINATED), 'connection', 'x-extra']).refusal, `Connection nominates more than ${MAX_NOMINATED} fields`);
  });

  it('as the edge, removes the client X-Forwarded-Proto/-Host and keeps X-Forwarded-For', () => {
    const fields = ['host', 'x', 'x-forwarded-proto', 'https', 'x-forwarded-for', '10.0.0.1', 'x-forwarded-host', 'evil', 'x-a', '1'];
    assert.deepEqual(run(fields).items, ['host', 'x', 'x-forwarded-for', '10.0.0.1', 'x-a', '1']);
    assert.deepEqual(run(fields, false).items, fields);
  });
});

describe('intakeHeaders: clientClose', () => {
  const of = (...fields: string[]): boolean => {
    const exchange = { clientClose: false };
    intakeHeaders(new HeaderList(fields), false, exchange);
    return exchange.clientClose;
  };

  it('finds close as the whole value or as one token of a list, in any case and spacing', () => {
    for (const value of ['close', 'Close', 'CLOSE', 'close, te', 'TE, Close', 'keep-alive,close', ' te ,\tclose\t', ', ,close,']) {
      assert.equal(of('host', 'x', 'connection', value), true, value);
    }
    assert.equal(of('connection', 'keep-alive', 'connection', 'close'), true, 'in a second Connection field');
  });

  it('is false without Connection, for keep-alive, and for tokens that only contain close', () => {
    assert.equal(of('host', 'x'), false);
    for (const value of ['keep-alive', 'te, keep-alive', 'closed', 'x-close', 'close-x', 'clo se', '']) {
      assert.equal(of('connection', value), false, value);
    }
    assert.equal(of('x-connection', 'close'), false);
  });
});
