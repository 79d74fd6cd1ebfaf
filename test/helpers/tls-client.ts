/** One HTTPS request on a fresh TLS connection, reporting what the handshake showed. */
import * as http2 from 'node:http2';
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

export interface H2Reply {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: string;
  /** The ALPN protocol the session negotiated. */
  readonly alpn: string | false | undefined;
  readonly peerCN: string;
}

export interface H2Options extends TlsOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One request over HTTP/2 on a fresh TLS session (ALPN offers h2 only). */
export function h2Request(port: number, o: H2Options): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, {
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      servername: o.servername ?? '',
      checkServerIdentity: () => undefined,
    });
    session.once('error', reject);
    const req = session.request({ ':method': o.method ?? 'GET', ':path': o.path ?? '/', ':authority': o.host ?? o.servername ?? 'localhost', ...o.headers });
    let headers: http2.IncomingHttpHeaders | null = null;
    let peerCN = '';
    let alpn: string | false | undefined;
    session.once('connect', (_s, socket) => {
      peerCN = String((socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? '');
      alpn = session.alpnProtocol;
    });
    let body = '';
    req.on('response', (h) => (headers = h));
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.once('error', (err) => {
      session.destroy();
      reject(err);
    });
    req.on('end', () => {
      session.close();
      // A stream that ends without response headers: the server cut the session.
      if (headers === null) reject(new Error('HTTP/2 stream ended without a response'));
      else resolve({ status: Number(headers[':status']), headers, body, alpn, peerCN });
    });
    req.end(o.body);
  });
}
