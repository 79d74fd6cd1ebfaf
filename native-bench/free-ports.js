// Prints N free TCP ports on 127.0.0.1, space-separated (the bench scripts' listeners and backends).
//   node native-bench/free-ports.js N
'use strict';
const net = require('node:net');

const n = Number(process.argv[2] ?? 1);
(async () => {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = net.createServer();
    servers.push(s);
    await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  }
  console.log(servers.map((s) => s.address().port).join(' '));
  for (const s of servers) s.close();
})();
