import { TLSSocket } from 'node:tls';
import * as http from 'node:http';
import type * as http2 from 'node:http2';
import type * as net from 'node:net';
import type { CompiledServer } from '../../config/compiled';
import { errorBody, ERROR_STATUS, type ErrorCode } from '../../shared/errors';
import { nodeRequestContext, targetError } from './node-context';
import { VIA_HTTP10, VIA_HTTP2 } from '../context';
import { HeaderList } from '../headers';
import type { RuntimeHolder } from '../runtime';
import type { Listener } from './listener';
import { NodeExchange, poisoned } from './node-exchange';
import { createNodeServers, updateNodeServers, type NodeServers } from './node-servers';
import { NodeTls } from './node-tls';
import { RequestCore } from './request-core';
import { statusLine } from './status-line';
import { NodeUpgrader } from '../websocket/node-upgrade';

/** llhttp errors that are about message framing (answered like ngate's own framing refusals). */
const FRAMING_ERRORS = new Set(['HPE_UNEXPECTED_CONTENT_LENGTH', 'HPE_INVALID_CONTENT_LENGTH', 'HPE_INVALID_TRANSFER_ENCODING', 'HPE_INVALID_CHUNK_SIZE']);

/**
 * The last request node:http dispatched on each HTTP/1 connection. A parse
 * error while that request's body is still incomplete belongs to a request
 * that already has its answer, sent or coming: no second status line then.
 */
const dispatched = new WeakMap<object, http.IncomingMessage>();

function clientErrorCode(code: string): ErrorCode {
  if (FRAMING_ERRORS.has(code)) return 'NGATE_ERR_BAD_FRAMING';
  if (code === 'HPE_HEADER_OVERFLOW') return 'NGATE_ERR_HEADERS_TOO_LARGE';
  return 'NGATE_ERR_BAD_REQUEST';
}

/**
 * One HTTPServer's listener on node:http / node:http2: HTTP/1.0 and 1.1
 * (keep-alive and pipelining with asynchronous responses, handled in order
 * by node), every method llhttp knows, h2c, configurable timeouts and header
 * limits. Slower than uWS; chosen per HTTPServer with `engine: node`.
 */
export class NodeListener implements Listener {
  readonly serverName: string;
  readonly address: string;
  readonly port: number;
  private readonly core: RequestCore;
  private readonly servers: NodeServers;
  private readonly maxHeaderCount: number;
  private readonly scheme: 'http' | 'https';
  /** Certificates and client checks of a TLS listener; replaced in place on a certificate change. */
  private readonly tls: NodeTls | null;
  /** WebSocket upgrades on HTTP/1.1 connections. */
  private readonly upgrader: NodeUpgrader;
  /** A connection node closed at accept because of maxConnections. */
  private readonly onDrop = (): void => {
    this.core.serverOf(this.holder.current)?.counters.overflow();
  };

  constructor(
    spec: CompiledServer,
    private readonly holder: RuntimeHolder,
  ) {
    this.serverName = spec.name;
    this.address = spec.address;
    this.port = spec.port;
    this.maxHeaderCount = spec.maxHeaderCount;
    this.core = new RequestCore(spec.name);
    this.tls = spec.tls === null ? null : new NodeTls(spec.tls);
    this.scheme = this.tls === null ? 'http' : 'https';
    this.servers = createNodeServers(
      spec,
      (req, res) => this.handle(req, res),
      (err, socket) => this.clientError(err, socket),
      this.tls?.serverOptions() ?? null,
    );
    this.upgrader = new NodeUpgrader(this.core, holder, this.scheme);
    const onUpgrade = (req: http.IncomingMessage, socket: net.Socket, head: Buffer): void => this.upgrade(req, socket, head);
    this.servers.http1?.on('upgrade', onUpgrade);
    // node:http2's TLS server runs node:http for its HTTP/1.1 connections, upgrades included.
    this.servers.secure?.on('upgrade', onUpgrade);
    // Without a 'connect' listener node destroys an HTTP/1.1 CONNECT's socket unanswered (and answers an h2 one
    // with a bare 405): the core answers it (501) instead. The TLS server emits both kinds, told apart by version.
    const onConnect = (req: http.IncomingMessage | http2.Http2ServerRequest, second: net.Socket | http2.Http2ServerResponse): void => {
      if (req.httpVersionMajor === 2) this.handle(req, second as http2.Http2ServerResponse);
      else this.serveAndClose(req as http.IncomingMessage, second as net.Socket);
    };
    this.servers.http1?.on('connect', onConnect);
    this.servers.secure?.on('connect', onConnect);
    // Before node's own listener sets the connection up, so an untrusted optional certificate never gets a request in.
    if (this.tls !== null) this.servers.secure?.prependListener('secureConnection', this.tls.checkOptionalClient);
    // maxConnections counts accepted connections (idle keep-alive, h2 sessions and WebSockets included):
    // net.Server closes the excess at accept, before a byte is read (0 = unlimited).
    this.servers.listening.maxConnections = spec.maxConnections;
    // node emits 'drop' for each connection it closes that way: counted as downstream_cx_overflow.
    this.servers.listening.on('drop', this.onDrop);
  }

  /**
   * A new generation of this HTTPServer: new TLS material is built now
   * (throws, refusing the swap, when OpenSSL rejects it) and takes effect
   * for new connections at commit, without rebinding the port, as does a
   * new maxConnections (connections already open over it stay) and new
   * keep-alive, header and request timeouts (updateNodeServers).
   */
  prepareUpdate(spec: CompiledServer): (() => void) | null {
    const server = this.servers.secure;
    const tls = this.tls === null || server === null || spec.tls === null ? null : this.tls.prepare(spec.tls, server);
    const listening = this.servers.listening;
    const max = spec.maxConnections;
    return () => {
      listening.maxConnections = max;
      updateNodeServers(this.servers, spec);
      tls?.();
    };
  }

  listen(): Promise<void> {
    const server = this.servers.listening;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new Error(`cannot listen on ${this.address}:${this.port} for HTTPServer/${this.serverName}: ${err.message}`));
      server.once('error', onError);
      server.listen({ host: this.address, port: this.port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
  }

  /** Stops accepting; idle keep-alive connections close now, busy ones after their response; h2 sessions get GOAWAY. */
  close(): void {
    this.servers.listening.close();
    this.servers.http1?.closeIdleConnections();
    // node:http2's TLS server keeps node:http's connection list for its HTTP/1.1 connections.
    (this.servers.secure as Partial<Pick<http.Server, 'closeIdleConnections'>> | null)?.closeIdleConnections?.();
    for (const session of this.servers.sessions) session.close();
  }

  /**
   * node:http hands every request with an Upgrade field here once an
   * `upgrade` listener exists. WebSocket ones go to the upgrader; any other
   * is served as a plain request (the upgrade ignored, as HTTP allows) on a
   * connection that closes after its response.
   */
  private upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    if (NodeUpgrader.wants(req)) return this.upgrader.handle(req, socket, head);
    // node stopped parsing at the upgrade: a body it would have framed is not read through `req`.
    if (head.length > 0 || req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
      const body = errorBody('NGATE_ERR_BAD_REQUEST', 'a body with a non-WebSocket Upgrade is not supported on this engine; send it without Upgrade');
      const answer = `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
      socket.on('error', () => socket.destroy());
      socket.end(answer, () => socket.destroy());
      return;
    }
    this.serveAndClose(req, socket);
  }

  /**
   * Serves one request node's parser handed over with its socket (an
   * upgrade, a CONNECT): node reads nothing more from it, so the response
   * goes out through a ServerResponse of our own and the connection ends.
   */
  private serveAndClose(req: http.IncomingMessage, socket: net.Socket): void {
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.once('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    this.handle(req, res);
  }

  private handle(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void {
    const socket = req.socket;
    if (req.httpVersionMajor === 1) {
      dispatched.set(socket, req as http.IncomingMessage);
      const pending = (socket as net.Socket & { _httpMessage?: unknown })._httpMessage;
      if (pending !== null && pending !== undefined && pending !== res) {
        // Pipelined behind a pending answer: node parsed it in the same read as the earlier request's body, whose
        // bytes reach the body reader only on a later tick. Waiting a turn lets a refusal of that body (413) poison
        // the connection first, so this request is never dispatched behind it.
        setImmediate(this.handlePipelined, req as http.IncomingMessage, res as http.ServerResponse);
        return;
      }
    }
    this.dispatch(req, res);
  }

  private readonly handlePipelined = (req: http.IncomingMessage, res: http.ServerResponse): void => this.dispatch(req, res);

  private dispatch(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void {
    const socket = req.socket;
    if (poisoned.has(socket)) return; // pipelined behind a refusal: never dispatched, the connection closes
    const raw = req.rawHeaders;
    const headers = new HeaderList();
    let authority: string | null = null;
    for (let i = 0; i < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      if (name.charCodeAt(0) === 58 /* ':' */) {
        if (name === ':authority') authority = raw[i + 1] as string;
        continue;
      }
      headers.items.push(name, raw[i + 1] as string);
    }
    // h2: :authority is the Host; a Host field that names another makes the request malformed (RFC 9113 §8.3.1).
    let conflict = false;
    if (authority !== null) {
      const host = headers.get('host');
      if (host === undefined) headers.items.push('host', authority);
      else conflict = host.toLowerCase() !== authority.toLowerCase();
    }
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const badTarget = target.charCodeAt(0) === 47 /* / */ ? null : targetError(method, target);
    const hostRequired = req.httpVersionMajor === 1 && req.httpVersionMinor >= 1;
    const ctx = nodeRequestContext(method, target, headers, socket as net.Socket, this.scheme, hostRequired);
    if (!hostRequired) ctx.via = req.httpVersionMajor === 2 ? VIA_HTTP2 : VIA_HTTP10;
    const ex = new NodeExchange(req as NodeExchange['req'], res, ctx, this.holder);
    res.once('close', ex.onClose);
    req.once('close', ex.onRequestClose);
    if (conflict) {
      this.core.reject(ex, ex.runtime, 'NGATE_ERR_BAD_REQUEST', ':authority and Host differ');
      return;
    }
    if (badTarget !== null) {
      this.core.reject(ex, ex.runtime, 'NGATE_ERR_BAD_REQUEST', badTarget);
      return;
    }
    if (headers.items.length / 2 > this.maxHeaderCount) {
      this.core.reject(ex, ex.runtime, 'NGATE_ERR_HEADERS_TOO_LARGE', `more than ${this.maxHeaderCount} header fields`);
      return;
    }
    this.core.handle(ex, ex.runtime);
  }

  /**
   * A request node's parser refused (bad framing, headers too large or too
   * slow): answer with ngate's error body and close. Only when that request
   * was never dispatched and no response is pending on the connection;
   * otherwise (its body broke or stalled after the headers, possibly after
   * its response went out) an answer would be taken for another request's,
   * so the connection is just closed.
   */
  private clientError(err: Error & { code?: string }, socket: net.Socket): void {
    const pending = (socket as net.Socket & { _httpMessage?: unknown })._httpMessage;
    const inBody = dispatched.get(socket)?.complete === false;
    if (!socket.writable || inBody || poisoned.has(socket) || (pending !== null && pending !== undefined) || err.code === 'ECONNRESET' || handshaking(socket)) {
      socket.destroy();
      return;
    }
    const code: ErrorCode = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'NGATE_ERR_REQUEST_TIMEOUT' : clientErrorCode(err.code ?? '');
    const status = ERROR_STATUS[code];
    const body = errorBody(code);
    const length = Buffer.byteLength(body);
    const remote = socket.remoteAddress ?? '';
    socket.end(`HTTP/1.1 ${statusLine(status)}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n${body}`);
    // Counted and logged as any answer, so malformed traffic shows in /stats and the access log.
    const server = this.core.serverOf(this.holder.current);
    server?.counters.unparsed(status, length);
    server?.accessLog?.logUnparsed(remote.startsWith('::ffff:') ? remote.slice(7) : remote, status, length, code);
  }
}

/**
 * A TLS connection whose handshake failed or timed out: node's secure server
 * reports it as a client error too. It carried no request, so it is neither
 * answered nor counted (a port scan is not a stream of 400s).
 */
function handshaking(socket: net.Socket): boolean {
  return socket instanceof TLSSocket && (socket as TLSSocket & { _secureEstablished?: boolean })._secureEstablished !== true;
}
