import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { TlsOptions } from 'node:tls';
import type { CompiledServer } from '../../config/compiled';

export type NodeRequestHandler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

/** The server that listens, plus what it needs to close gracefully. */
export interface NodeServers {
  /** The server bound to the port. */
  readonly listening: net.Server;
  /** The node:http server parsing HTTP/1.x (null when the port speaks h2c only, or TLS). */
  readonly http1: http.Server | null;
  /** The TLS server (HTTP/1.1 and h2 by ALPN), null on a cleartext port. */
  readonly secure: http2.Http2SecureServer | null;
  /** Open HTTP/2 sessions, sent GOAWAY on close. */
  readonly sessions: Set<http2.ServerHttp2Session>;
  /** The cleartext HTTP/2 (h2c) server, null when the port does not speak h2c. */
  readonly h2c: http2.Http2Server | null;
  /** How long a cleartext connection may stay silent before its first byte (the protocol sniffer's wait). */
  firstByteTimeout: number;
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

function http1Options(spec: CompiledServer): http.ServerOptions {
  return {
    headersTimeout: spec.headersTimeout,
    requestTimeout: spec.requestTimeout,
    // node checks both timeouts on this interval (default 30 s): keep it finer than the shortest.
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, spec.headersTimeout / 4)),
    maxHeaderSize: spec.maxHeaderBytes,
    keepAlive: true,
    noDelay: true,
    // Two Content-Length values or CL + TE are errors, not guesses.
    insecureHTTPParser: false,
    // node's own check answers a bare 400 nobody counts: the core refuses a missing Host itself.
    requireHostHeader: false,
  };
}

function applyHttp1Timeouts(server: http.Server | http2.Http2SecureServer, spec: CompiledServer): void {
  const s = server as http.Server & { connectionsCheckingInterval?: number; requireHostHeader?: boolean };
  // node:http reads it from the server per request; the TLS server takes no http.ServerOptions.
  s.requireHostHeader = false;
  s.keepAliveTimeout = spec.keepAlive ? spec.keepAliveTimeout : 1;
  s.headersTimeout = spec.headersTimeout;
  s.requestTimeout = spec.requestTimeout;
  // One more than the limit, so a request over it is seen (and refused) rather than silently truncated.
  s.maxHeadersCount = spec.maxHeaderCount + 1;
  // Read when listening starts (the TLS server takes no http.ServerOptions): same interval as http1Options.
  s.connectionsCheckingInterval = Math.max(100, Math.min(1_000, spec.headersTimeout / 4));
}

function http2Settings(spec: CompiledServer): http2.ServerOptions {
  return { maxHeaderListPairs: spec.maxHeaderCount + 4, maxSendHeaderBlockLength: 64 * 1024, settings: { maxHeaderListSize: spec.maxHeaderBytes } };
}

function trackSessions(server: http2.Http2Server | http2.Http2SecureServer, sessions: Set<http2.ServerHttp2Session>, spec: CompiledServer): void {
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.setTimeout(spec.keepAliveTimeout);
}

/**
 * Applies a new generation's keepAlive, keepAliveTimeout, headersTimeout and
 * requestTimeout to running servers: node reads them from the server for
 * each new connection, request or timeout check, so connections already
 * open take them too. The interval of the header/request timeout checks
 * stays the one chosen at listen (at most 1 s). What node fixes when a
 * server is created (protocols, header limits) is not changed here: such
 * a change on a running port is refused at validation.
 */
export function updateNodeServers(servers: NodeServers, spec: CompiledServer): void {
  const h1 = servers.http1 ?? servers.secure;
  if (h1 !== null) {
    const s = h1 as http.Server;
    s.keepAliveTimeout = spec.keepAlive ? spec.keepAliveTimeout : 1;
    s.headersTimeout = spec.headersTimeout;
    s.requestTimeout = spec.requestTimeout;
  }
  servers.secure?.setTimeout(spec.keepAliveTimeout);
  servers.h2c?.setTimeout(spec.keepAliveTimeout);
  servers.firstByteTimeout = spec.headersTimeout;
}

/**
 * Creates the node:http / node:http2 servers for one HTTPServer.
 * - `secure` given: one TLS server negotiating `h2` and `http/1.1` by ALPN
 *   (node:http2 with allowHTTP1), so TLS plugs in by passing certificates.
 * - cleartext, http1 + h2c: a small TCP server reads the first bytes of each
 *   connection and hands it to the HTTP/2 server when they are the HTTP/2
 *   preface (prior knowledge), to node:http otherwise.
 * - cleartext, one protocol: that server listens directly.
 */
export function createNodeServers(spec: CompiledServer, handler: NodeRequestHandler, onClientError: (err: Error, socket: net.Socket) => void, secure: TlsOptions | null): NodeServers {
  const sessions = new Set<http2.ServerHttp2Session>();
  if (secure !== null) {
    const server = http2.createSecureServer({ ...secure, ...http2Settings(spec), allowHTTP1: true, minVersion: 'TLSv1.2', handshakeTimeout: spec.headersTimeout }, handler);
    applyHttp1Timeouts(server, spec);
    // HTTP/1.1 requests over TLS go through node:http's parser, which reports its errors here.
    server.on('clientError', onClientError);
    // A failed or timed-out handshake (handshakeTimeout) also comes as 'clientError', and node only destroys
    // the socket when nobody listens there: an answer written into a socket whose handshake never finished
    // waits forever and the connection stays open. Such a connection has nothing to answer: close it.
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    trackSessions(server, sessions, spec);
    return { listening: server, http1: null, secure: server, sessions, h2c: null, firstByteTimeout: spec.headersTimeout };
  }
  const wantsH1 = spec.protocols.includes('http1');
  const wantsH2c = spec.protocols.includes('h2c');
  const h1 = wantsH1 ? http.createServer(http1Options(spec), handler) : null;
  if (h1 !== null) {
    applyHttp1Timeouts(h1, spec);
    h1.on('clientError', onClientError);
  }
  const h2 = wantsH2c ? http2.createServer(http2Settings(spec), handler) : null;
  if (h2 !== null) {
    trackSessions(h2, sessions, spec);
    // Without a 'connect' listener node answers an h2 CONNECT with its own bare 405: the core answers it instead.
    h2.on('connect', handler);
  }
  if (h1 !== null && h2 === null) return { listening: h1, http1: h1, secure: null, sessions, h2c: null, firstByteTimeout: spec.headersTimeout };
  if (h2 !== null && h1 === null) return { listening: h2, http1: null, secure: null, sessions, h2c: h2, firstByteTimeout: spec.headersTimeout };
  const sniffer = net.createServer({ noDelay: true }, (socket) => {
    // A connection that never sends a byte is cut like slow headers.
    socket.setTimeout(servers.firstByteTimeout, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.setTimeout(0);
      const n = Math.min(chunk.length, PREFACE.length);
      const isH2 = chunk.subarray(0, n).equals(PREFACE.subarray(0, n));
      socket.unshift(chunk);
      // The h2 session reads what is buffered itself (and fails if it also flows); node:http needs the stream flowing.
      if (isH2) (h2 as http2.Http2Server).emit('connection', socket);
      else {
        (h1 as http.Server).emit('connection', socket);
        socket.resume();
      }
    });
    socket.on('error', () => socket.destroy());
  });
  // node:http starts its header/request timeout checks when it starts listening; here the sniffer
  // listens, so start them when it does (and stop them on close).
  sniffer.once('listening', () => (h1 as http.Server).emit('listening'));
  sniffer.once('close', () => (h1 as http.Server).close(() => undefined));
  // Read by the sniffer at each connection, so updateNodeServers reaches it.
  const servers: NodeServers = { listening: sniffer, http1: h1, secure: null, sessions, h2c: h2, firstByteTimeout: spec.headersTimeout };
  return servers;
}
