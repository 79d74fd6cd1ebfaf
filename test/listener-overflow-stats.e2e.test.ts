import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RecordingUpstream } from './framing-suite/upstream';
import { eventually, readStats } from './helpers/admin';
import type { Gateway } from './helpers/gateway';
import { startRecordedGateway, stopRecordedGateway } from './helpers/recorded-gateway';
import { http } from './helpers/http';
import { parsePrometheus, sampleValue } from './helpers/prometheus';
import { rawRequest } from './helpers/raw';

/** The HTTPServer fields: `engine`, at most two connections. */
function config(engine: 'node' | 'uws'): string {
  return `engine: ${engine}\nmaxConnections: 2\n`;
}

/** Polls /stats (bounded) until http.edge.downstream_cx_overflow reaches `want`. */
async function overflowReaches(gw: Gateway, want: number): Promise<void> {
  await eventually(async () => ((await readStats(gw.admin)).get('http.edge.downstream_cx_overflow') === String(want) ? true : undefined), 5_000, `downstream_cx_overflow ${want}`);
}

/** The counter in the three /stats formats. */
async function overflowEverywhere(gw: Gateway): Promise<{ text: string | undefined; json: number | undefined; prometheus: number | undefined }> {
  const text = (await readStats(gw.admin)).get('http.edge.downstream_cx_overflow');
  const body = JSON.parse((await http(`${gw.admin}/stats?format=json`)).body) as { stats: { name: string; value: number }[] };
  const json = body.stats.find((s) => s.name === 'http.edge.downstream_cx_overflow')?.value;
  const families = parsePrometheus((await http(`${gw.admin}/stats?format=prometheus`)).body);
  const prometheus = sampleValue(families, 'envoy_http_downstream_cx_overflow', { envoy_http_conn_manager_prefix: 'edge' });
  return { text, json, prometheus };
}

describe('downstream_cx_overflow, engine: node: connections closed at accept by maxConnections', () => {
  let upstream: RecordingUpstream;
  let gw: Gateway;
  const sockets: net.Socket[] = [];
  before(async () => {
    ({ upstream, gw } = await startRecordedGateway(config('node'), 1));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await stopRecordedGateway({ gw, upstream });
  });

  it('counts the third of three connections, once, in text, JSON and Prometheus', { timeout: 10_000 }, async () => {
    assert.equal((await overflowEverywhere(gw)).text, '0');
    const port = gw.ports.get('edge') as number;
    for (let i = 0; i < 3; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      sockets.push(s);
      await once(s, 'connect');
    }
    // The third one is closed by the gateway, without a byte.
    await once(sockets[2] as net.Socket, 'close');
    await overflowReaches(gw, 1);
    assert.deepEqual(await overflowEverywhere(gw), { text: '1', json: 1, prometheus: 1 });
    assert.equal((sockets[0] as net.Socket).destroyed, false, 'the first two stay open');
    assert.equal((sockets[1] as net.Socket).destroyed, false);
  });
});

describe('downstream_cx_overflow, engine: uws: requests refused 503 by maxConnections', () => {
  let upstream: RecordingUpstream;
  let gw: Gateway;
  const holders: net.Socket[] = [];
  before(async () => {
    ({ upstream, gw } = await startRecordedGateway(config('uws'), 1));
  });
  after(async () => {
    for (const s of holders) s.destroy();
    await stopRecordedGateway({ gw, upstream });
  });

  it('counts the busy connection refused beyond the limit', { timeout: 10_000 }, async () => {
    const port = gw.ports.get('edge') as number;
    // Two uploads whose bodies never finish hold both places.
    for (let i = 0; i < 2; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      holders.push(s);
      s.write(`POST /hold${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc`);
    }
    await eventually(async () => (upstream.seen('/hold').length === 2 ? true : undefined), 3_000, 'both uploads upstream');
    const third = await rawRequest(port, 'GET /third HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(third.text, /^HTTP\/1\.1 503 [^]*NGATE_ERR_TOO_MANY_CONNECTIONS/);
    await overflowReaches(gw, 1);
    assert.deepEqual(await overflowEverywhere(gw), { text: '1', json: 1, prometheus: 1 });
  });
});
