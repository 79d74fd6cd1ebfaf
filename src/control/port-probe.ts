import * as net from 'node:net';

/**
 * uWS listens with SO_REUSEPORT, so a second gateway on a taken port would
 * silently share it. A plain bind (no SO_REUSEPORT) fails with EADDRINUSE
 * when anyone holds the port, which is what `ngate start` must report.
 */
export function probePort(address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'is already in use (another ngate or another server holds it)' : `cannot be bound: ${err.message}`;
      reject(new Error(`port ${port} on ${address} ${why}`));
    });
    server.listen({ host: address, port, exclusive: true }, () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}
