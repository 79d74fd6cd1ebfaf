// The load tests' backend: fixed answers, keep-alive, no logging. Run as its
// own process; prints "listening <port>" once bound to 127.0.0.1.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

const SMALL = Buffer.from('hello from the backend\n');
const JSON_OK = Buffer.from('{"ok":true}');

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': SMALL.length });
    res.end(SMALL);
    return;
  }
  // Read the whole body before answering, as a real API would.
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': JSON_OK.length });
    res.end(JSON_OK);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
