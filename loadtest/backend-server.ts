// The load tests' backend: fixed answers, keep-alive, no logging. Run as its
// own process; prints "listening <port>" once bound to 127.0.0.1.
//   --id ID      every answer carries `x-backend-id: ID` (which backend a proxied request reached)
//   --root DIR   serve the files under DIR instead of fixed answers (the static scenario's baseline)
// GET /__requests answers how many other requests this process has served.
import { close, createReadStream, fstat, open } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { id: { type: 'string' }, root: { type: 'string' } } });
const SMALL = Buffer.from('hello from the backend\n');
const JSON_OK = Buffer.from('{"ok":true}');
const ID_HEADER: Record<string, string> = args.id === undefined ? {} : { 'x-backend-id': args.id };
let served = 0;

function fixed(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.method === 'GET') {
    res.writeHead(200, { ...ID_HEADER, 'content-type': 'text/plain', 'content-length': SMALL.length });
    res.end(SMALL);
    return;
  }
  // Read the whole body before answering, as a real API would.
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(200, { ...ID_HEADER, 'content-type': 'application/json', 'content-length': JSON_OK.length });
    res.end(JSON_OK);
  });
}

/**
 * What a minimal Node file server does per request: open, fstat, stream the
 * file. No realpath, conditional requests or ranges, and only `..`-free paths.
 */
function file(root: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const rel = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
  const notFound = (): void => {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
  };
  if (req.method !== 'GET' || rel.split('/').includes('..')) return notFound();
  const name = path.join(root, rel);
  open(name, 'r', (err, fd) => {
    if (err !== null) return notFound();
    fstat(fd, (statErr, st) => {
      if (statErr !== null || !st.isFile()) return close(fd, notFound);
      res.writeHead(200, {
        'content-type': name.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream',
        'content-length': st.size,
        'last-modified': st.mtime.toUTCString(),
        etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      });
      createReadStream('', { fd }).pipe(res);
    });
  });
}

const root = args.root;
const server = http.createServer((req, res) => {
  if (req.url === '/__requests') {
    res.writeHead(200, { ...ID_HEADER, 'content-type': 'text/plain' });
    res.end(String(served));
    return;
  }
  served++;
  if (root !== undefined) file(root, req, res);
  else fixed(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
