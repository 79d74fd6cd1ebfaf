// The floor of a Node proxy on this machine: a bare uWebSockets.js listener
// (the build ngate loads) and one keep-alive net.Socket per in-flight request
// to the backend, with the least parsing that works for the fixed /small
// answer of native-bench's nginx backend. No routing, no headers forwarded,
// no stats, no error handling: what ngate's own per-request work is measured
// against (floor.sh). Not a proxy to use.
//
//   node native-bench/floor.js PORT BACKEND_PORT
'use strict';
const net = require('node:net');
const path = require('node:path');
const { loadUws } = require(path.join(__dirname, '..', 'dist', 'src', 'dataplane', 'listener', 'uws-loader.js'));

const [port, backendPort] = process.argv.slice(2).map(Number);
const { uws } = loadUws();
const idle = [];
const HEAD = `GET /small HTTP/1.1\r\nhost: 127.0.0.1:${backendPort}\r\nconnection: keep-alive\r\n\r\n`;

function connection() {
  const socket = net.connect(backendPort, '127.0.0.1');
  socket.setNoDelay(true);
  socket.res = null;
  socket.on('data', (chunk) => {
    // The backend's answer arrives in one read: head, then the body.
    const text = chunk.toString('latin1');
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    const res = socket.res;
    socket.res = null;
    idle.push(socket);
    if (res.gone) return;
    res.cork(() => {
      res.writeStatus('200 OK');
      res.writeHeader('content-type', 'text/plain');
      res.end(body);
    });
  });
  return socket;
}

uws
  .App()
  .any('/*', (res) => {
    res.onAborted(() => (res.gone = true));
    const socket = idle.pop() ?? connection();
    socket.res = res;
    socket.write(HEAD, 'latin1');
  })
  .listen('127.0.0.1', port, (ok) => {
    if (!ok) {
      console.error(`floor: cannot listen on 127.0.0.1:${port}`);
      process.exit(1);
    }
    console.log(`floor listening on 127.0.0.1:${port}`);
  });
