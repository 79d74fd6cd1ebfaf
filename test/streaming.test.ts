import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { proxyConfig } from './helpers/pipelines';

const MiB = 1024 * 1024;

/** Resident memory of a process in bytes (Linux). */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

function enginePid(gw: Gateway): number {
  return Number(/ngate ready pid=(\d+)/.exec(gw.logs())?.[1]);
}

describe('streaming through the proxy', () => {
  let backend: Backend;
  let gw: Gateway;
  /** Bytes the backend managed to hand to its socket for the endless response. */
  let endlessWritten = 0;
  let endlessStalled: (() => void) | null = null;

  before(async () => {
    backend = await startBackend(1, () => undefined);
    // Replace the recording handler with a streaming one: echo uploads back, and an endless download.
    const server = http.createServer((req, res) => {
      if (req.url === '/echo') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        req.pipe(res);
        return;
      }
      if (req.url === '/endless') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(512 * MiB) });
        const chunk = Buffer.alloc(64 * 1024, 120);
        const pump = (): void => {
          while (endlessWritten < 512 * MiB) {
            endlessWritten += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              endlessStalled?.();
              return;
            }
          }
          res.end();
        };
        pump();
        return;
      }
      res.end('?');
    });
    await backend.close();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    backend = { ...backend, port, url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
    gw = await startGateway(proxyConfig(backend.url, 'clientMaxBodySize: 200m\n'));
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  it('streams a 50 MiB upload to the upstream and its 50 MiB echo back without buffering it whole', async () => {
    const pid = enginePid(gw);
    const baseline = rss(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 20);
    const total = 50 * MiB;
    let uploadDone = false;
    let echoedBeforeUploadDone = 0;
    const received = await new Promise<number>((resolve, reject) => {
      const req = http.request(gw.url('edge', '/echo'), { method: 'POST', headers: { 'content-length': String(total) } }, (res) => {
        assert.equal(res.statusCode, 200);
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (!uploadDone) echoedBeforeUploadDone = n;
        });
        res.on('end', () => resolve(n));
        res.on('error', reject);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(256 * 1024, 97);
      let sent = 0;
      const write = (): void => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', write);
            return;
          }
        }
        req.end(() => (uploadDone = true));
      };
      write();
    });
    clearInterval(sampler);
    assert.equal(received, total);
    // Streaming both ways: the echo reached the client while it was still uploading.
    assert.ok(echoedBeforeUploadDone > 0, 'no echoed byte arrived before the upload finished: something buffered a whole body');
    // Buffering both bodies would cost 100 MiB on top of the baseline (the rest is garbage not yet collected).
    assert.ok(peak - baseline < 90 * MiB, `engine memory grew by ${((peak - baseline) / MiB).toFixed(1)} MiB`);
  });

  it('pauses the upstream when the client stops reading (memory stays bounded)', async () => {
    const pid = enginePid(gw);
    const baseline = rss(pid);
    const socket = net.connect(gw.ports.get('edge') as number, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.pause(); // never read
    socket.write('GET /endless HTTP/1.1\r\nHost: x\r\n\r\n');
    // Wait until the backend is blocked by backpressure, then check it stays blocked.
    let lastSeen = -1;
    while (endlessWritten !== lastSeen) {
      lastSeen = endlessWritten;
      await new Promise<void>((resolve) => {
        endlessStalled = resolve;
        setTimeout(resolve, 500);
      });
    }
    endlessStalled = null;
    assert.ok(endlessWritten < 64 * MiB, `the upstream pushed ${(endlessWritten / MiB).toFixed(1)} MiB into a client that reads nothing`);
    assert.ok(rss(pid) - baseline < 64 * MiB);
    socket.destroy();
  });
});
