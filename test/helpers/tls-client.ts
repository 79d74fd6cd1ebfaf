/** One HTTPS request on a fresh TLS connection, reporting what the handshake showed. */
import * as https from 'node:https';
import type { SecureVersion } from 'node:tls';

export interface TlsReply {
  readonly status: number;
  readonly body: string;
  /** CN of the certificate the server presented. */
  readonly peerCN: string;
  readonly protocol: string | null;
}

export interface TlsOptions {
  servername?: string;
  ca: string;
  cert?: string;
  key?: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  path?: string;
  host?: string;
  agent?: https.Agent;
}

export function tlsGet(port: number, o: TlsOptions): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: o.path ?? '/',
        headers: { host: o.host ?? o.servername ?? 'localhost' },
        servername: o.servername ?? '',
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        minVersion: o.minVersion,
        maxVersion: o.maxVersion,
        // Names are checked through peerCN; verification against the CA stays on.
        checkServerIdentity: () => undefined,
        agent: o.agent ?? false,
      },
      (res) => {
        const socket = res.socket as import('node:tls').TLSSocket;
        const peerCN = String(socket.getPeerCertificate().subject?.CN ?? '');
        const protocol = socket.getProtocol();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, peerCN, protocol }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
