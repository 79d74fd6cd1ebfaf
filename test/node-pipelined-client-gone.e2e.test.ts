import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { proxyConfig } from './helpers/pipelines';
import { eventually, readStats } from './helpers/admin';

const BIG = Buffer.alloc(1024 * 1024, 7);

describe('node engine: a pipelined request queued behind a slow one when the client leaves', () => {
  let server: http.Server;
  let gw: Gateway;
  let bigAnswered: () => void = () => undefined;
  const bigSent = new Promise<void>((r) => (bigAnswered = r));
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 1500);
      else {
        res.writeHead(200, { 'content-length': String(BIG.length) });
        res.write(BIG.subarray(0, 512 * 1024), () => bigAnswered());
        res.end(BIG.subarray(512 * 1024));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    gw = await startGateway(proxyConfig(origin, 'engine: node\n'), { workers: 1 });
  });
  after(async () => {
    await gw.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('finishes the queued request once the client left', async () => {
    const socket = net.connect(gw.ports.get('edge') as number, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await bigSent;
    socket.destroy();
    await eventually(
      async () => ((await readStats(gw.admin)).get('http.edge.downstream_rq_active') === '0' ? true : undefined),
      8_000,
      'no request in flight once the client left and the upstream answered',
    );
  });
});
