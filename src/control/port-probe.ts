import * as net from 'node:net';

/** A probe that could not bind; `inUse` tells EADDRINUSE from other reasons. */
export class PortProbeError extends Error {
  constructor(
    readonly address: string,
    readonly port: number,
    readonly inUse: boolean,
    why: string,
  ) {
    super(`port ${port} on ${address} ${why}`);
  }
}

/**
 * uWS listens with SO_REUSEPORT, so a second gateway on a taken port would
 * silently share it. A plain bind (no SO_REUSEPORT) fails with EADDRINUSE
 * when anyone holds the port, which is what `ngate start` must report.
 */
export function probePort(address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const inUse = err.code === 'EADDRINUSE';
      reject(new PortProbeError(address, port, inUse, inUse ? 'is already in use (another ngate or another server holds it)' : `cannot be bound: ${err.message}`));
    });
    server.listen({ host: address, port, exclusive: true }, () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}
