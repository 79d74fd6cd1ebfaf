import WebSocket from 'ws';
import type { ClientRequestArgs, IncomingMessage } from 'node:http';
import type { RequestContext } from '../context';
import type { Endpoint } from '../balancer/endpoint';
import type { ServiceCounters } from '../stats/counters';
import type { WebsocketSpec } from '../../config/websocket-schema';
import type { ErrorCode } from '../../shared/errors';
import { upstreamHeaders } from '../upstream/forward';
import { HOP_BY_HOP } from '../upstream/hop-headers';
import { upstreamErrorCode } from '../upstream/upstream-error';
import type { WsUpgrade } from './ws-upgrade';
import { UpstreamTlsWatch } from './upstream-tls-watch';

/** Handshake fields the upstream client writes itself. */
const HANDSHAKE = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol']);
/** Upstream 101 fields that uWS writes itself on the client's 101. */
const OWN_101 = new Set([...HANDSHAKE, 'sec-websocket-accept', 'date', 'content-length', 'uwebsockets']);
/** Most of a refusing upstream's body that is passed on. */
const REFUSAL_BODY_MAX = 64 * 1024;

/**
 * The request headers for the upstream handshake, as an object (the form
 * `ws` takes). The offered subprotocols travel as a plain header, not as
 * `ws` protocols: `ws` refuses an upstream that picks none of them, while a
 * browser accepts it, so the upstream's answer is read and passed on as is.
 */
function handshakeHeaders(ctx: RequestContext, protocols: readonly string[]): Record<string, string> {
  const flat = upstreamHeaders(ctx);
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string;
    if (HANDSHAKE.has(name)) continue;
    const value = flat[i + 1] as string;
    const prev = out[name];
    out[name] = prev === undefined ? value : `${prev}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  if (protocols.length > 0) out['sec-websocket-protocol'] = protocols.join(', ');
  return out;
}

/** Copies an upstream response's end-to-end headers into the context's response. */
function copyResponseHeaders(ctx: RequestContext, res: IncomingMessage, skip: ReadonlySet<string>): void {
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(name) || skip.has(name)) continue;
    ctx.responseHeaders.add(name, raw[i + 1] as string);
  }
}

function failureCode(err: Error & { code?: string }): ErrorCode {
  if (err.message.includes('handshake has timed out')) return 'NGATE_ERR_UPSTREAM_TIMEOUT';
  if (err.message.startsWith('Invalid') || err.message.startsWith('Server sent')) return 'NGATE_ERR_UPSTREAM_PROTOCOL';
  return upstreamErrorCode(err);
}

/**
 * Opens the upstream WebSocket for an upgrade: settles '' once the upstream
 * answered (101: `up.upstream` is set and paused; any other status: the
 * context holds that answer), or 'serverError' with 502/504 when it failed.
 * The client gets nothing until this settles.
 */
export function connectUpstream(
  ctx: RequestContext,
  up: WsUpgrade,
  endpoint: Endpoint,
  limits: WebsocketSpec,
  handshakeTimeout: number,
  counters: ServiceCounters,
): Promise<string> {
  ctx.upstream = endpoint.url;
  const target = `${endpoint.url.replace(/^http/, 'ws')}${ctx.path}${ctx.query.length === 0 ? '' : `?${ctx.query}`}`;
  endpoint.begin();
  counters.request();
  const started = performance.now();
  return new Promise<string>((resolve) => {
    let settled = false;
    const settle = (result: string, status: number, ok: boolean): void => {
      settled = true;
      if (ctx.onAbort === abort) ctx.onAbort = null;
      counters.response(status);
      counters.outcome(endpoint.index, ok);
      counters.time(performance.now() - started);
      resolve(result);
    };
    /** Any failure before the upstream's answer was complete: 502/504, the endpoint released. */
    const fail = (err: Error & { code?: string }): void => {
      if (settled) return;
      socket.terminate();
      endpoint.end();
      const code = failureCode(err);
      ctx.fail(code, err.message);
      counters.failure(code);
      settle('serverError', ctx.status, false);
    };
    // An https:// endpoint's connection is watched: a failed TLS handshake is a connect failure.
    const watch = endpoint.tls === null ? null : new UpstreamTlsWatch(endpoint.authority);
    const socket = new WebSocket(target, [], {
      headers: handshakeHeaders(ctx, up.protocols),
      handshakeTimeout,
      maxPayload: limits.maxMessageSize,
      perMessageDeflate: false,
      followRedirects: false,
      // The pool's tls (CA, client certificate, SNI name, verification) for an https:// endpoint.
      ...endpoint.tls,
      // `ws` hands it the request's options, tls.connect's among them.
      ...(watch === null ? {} : { createConnection: watch.connect as ClientRequestArgs['createConnection'] }),
    });
    const abort = (): void => socket.terminate();
    ctx.onAbort = abort;
    let picked = '';
    socket.once('upgrade', (res: IncomingMessage) => {
      if (watch !== null) watch.answered = true;
      copyResponseHeaders(ctx, res, OWN_101);
      picked = res.headers['sec-websocket-protocol'] ?? '';
      // Checked here instead of by `ws`, which would refuse any answer to an offer it did not make.
      delete res.headers['sec-websocket-protocol'];
      if (picked !== '' && !up.protocols.includes(picked)) socket.emit('error', new Error(`Server sent an invalid subprotocol "${picked}"`));
    });
    socket.once('open', () => {
      // Nothing may flow before the client side is open.
      socket.pause();
      up.upstream = socket;
      up.protocol = picked;
      up.endpoint = endpoint;
      up.limits = limits;
      settle('', 101, true);
    });
    socket.once('unexpected-response', (req, res: IncomingMessage) => {
      if (watch !== null) watch.answered = true;
      req.once('error', () => undefined);
      const status = res.statusCode ?? 0;
      // A 101 that `ws` refused as an upgrade (no Upgrade/Connection/accept): a 1xx is never a final answer to pass on.
      if (status < 200) {
        res.resume();
        fail(new Error(`Invalid upstream answer to the upgrade: ${status} without a WebSocket handshake`));
        return;
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes <= REFUSAL_BODY_MAX) chunks.push(c);
      });
      res.once('end', () => {
        if (settled) return;
        ctx.status = status;
        ctx.responseHeaders.items.length = 0;
        copyResponseHeaders(ctx, res, OWN_101);
        ctx.responseBody = Buffer.concat(chunks);
        socket.terminate();
        endpoint.end();
        settle('', status, status < 500);
      });
      // Settled here rather than through the 'error' that terminating a connecting `ws` happens to emit.
      res.once('error', fail);
    });
    socket.on('error', watch === null ? fail : (err: Error) => fail(watch.classify(err)));
  });
}
