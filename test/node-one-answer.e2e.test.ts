import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { proxyConfig } from './helpers/pipelines';

/** Status lines in what the client received (one per response on the connection). */
function statusLines(text: string): string[] {
  return text.match(/HTTP\/1\.[01] \d{3}[^\r\n]*/g) ?? [];
}

/**
 * Sends `head` and `body`, waits for the first response, then optionally
 * sends `after`, and collects everything until the gateway closes the connection.
 */
async function exchange(port: number, head: string, body: string, after = ''): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let text = '';
  let answered: () => void = () => undefined;
  const firstAnswer = new Promise<void>((resolve) => (answered = resolve));
  socket.on('data', (c: Buffer) => {
    text += c.toString('latin1');
    if (/\r\n\r\nok/.test(text)) answered();
  });
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  socket.write(head + body);
  await firstAnswer;
  if (after !== '') socket.write(after);
  await closed;
  return text;
}

/**
 * The upstream answers before the client's upload has finished; whatever
 * goes wrong with the rest of that upload afterwards (too slow, broken
 * framing), the request already has its answer: the connection closes
 * without a second status line, which a client reusing it would take for
 * the answer to its next request.
 */
describe('node engine: one answer per request when the upload fails after the response', () => {
  let upstream: http.Server;
  let gw: Gateway;
  let port: number;
  before(async () => {
    // Answers at once, without waiting for the request body.
    upstream = http.createServer((req, res) => {
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
    gw = await startGateway(proxyConfig(origin, 'engine: node\nheadersTimeout: 400ms\nrequestTimeout: 800ms\n'), { workers: 1 });
    port = gw.ports.get('edge') as number;
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('a stalled Content-Length upload past requestTimeout: 200, then closed without a 408', { timeout: 10_000 }, async () => {
    const text = await exchange(port, 'POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n', 'a'.repeat(1000));
    assert.deepEqual(statusLines(text), ['HTTP/1.1 200 OK'], text);
  });

  it('a chunked upload cut by a bad chunk size: 200, then closed without a 400', { timeout: 10_000 }, async () => {
    const text = await exchange(port, 'POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', '5\r\nhello\r\n', 'zz\r\n');
    assert.deepEqual(statusLines(text), ['HTTP/1.1 200 OK'], text);
  });

  it('still answers 408 to a request whose headers are too slow (nothing answered yet)', { timeout: 10_000 }, async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    const closed = once(socket, 'close');
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n');
    await closed;
    assert.deepEqual(statusLines(text), ['HTTP/1.1 408 Request Timeout'], text);
  });

  it('a short Content-Length body ended by the client: 200, then closed without a 400', { timeout: 10_000 }, async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      // The client half-closes once answered: its body stays 90 bytes short.
      if (/\r\n\r\nok/.test(text)) socket.end();
    });
    const closed = once(socket, 'close');
    socket.write('POST /short HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789');
    await closed;
    assert.deepEqual(statusLines(text), ['HTTP/1.1 200 OK'], text);
  });

  it('still answers 400 to a broken request after an answered one on the same connection', { timeout: 10_000 }, async () => {
    const text = await exchange(port, 'GET /first HTTP/1.1\r\nHost: x\r\n\r\n', '', 'POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n');
    assert.deepEqual(statusLines(text), ['HTTP/1.1 200 OK', 'HTTP/1.1 400 Bad Request'], text);
    assert.match(text, /NGATE_ERR_BAD_FRAMING/);
  });
});
