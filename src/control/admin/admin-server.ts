/**
 * The admin HTTP server on the coordinator (node:http: it is off the data
 * path). Routes are registered by the parts that own them (stats, objects,
 * health); this file only dispatches, parses bodies and writes answers.
 */
import { timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_HEADER, ADMIN_HEADER_VALUE } from '../../shared/admin-protocol';
import { log } from '../../shared/log';
import { decodeUtf8, InvalidUtf8 } from '../../shared/utf8';
import { RequestGuard } from './request-guard';

export interface AdminRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  /** Path parameters from `:name` segments. */
  readonly params: Record<string, string>;
  readonly body: string;
}

export interface AdminReply {
  readonly status: number;
  readonly body: string | object;
  readonly contentType?: string;
}

export type AdminHandler = (req: AdminRequest) => AdminReply | Promise<AdminReply>;

interface Route {
  readonly method: string;
  readonly parts: string[];
  readonly handler: AdminHandler;
  readonly mutating: boolean;
}

const MAX_BODY = 4 * 1024 * 1024;

export function json(status: number, body: object): AdminReply {
  return { status, body };
}

export function text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): AdminReply {
  return { status, body, contentType };
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export class AdminServer {
  private readonly routes: Route[] = [];
  private server: http.Server | null = null;
  private guard: RequestGuard | null = null;

  /**
   * `token`: when set, every call except `GET /ready` (load balancers probe it)
   * needs `Authorization: Bearer <token>`: reads show the running objects too.
   */
  constructor(private readonly token: string | null) {}

  route(method: string, pattern: string, handler: AdminHandler): void {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler, mutating: method !== 'GET' && method !== 'HEAD' });
  }

  /** Registered routes, for /help. */
  list(): string[] {
    return this.routes.map((r) => `${r.method} /${r.parts.join('/')}`);
  }

  listen(address: string, port: number): Promise<number> {
    this.guard = new RequestGuard(address, this.token !== null);
    const server = http.createServer((req, res) => {
      // handle() answers every failure itself; this is the last guard, so no request can end the engine.
      this.handle(req, res).catch((err: unknown) => {
        log('ERROR', 'admin request failed', { path: req.url, error: (err as Error).message });
        res.destroy();
      });
    });
    server.keepAliveTimeout = 5_000;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => resolve((server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  /** The route for a path, `'method'` when only the method is wrong; throws URIError on a malformed %-escape in a parameter. */
  private match(method: string, path: string): { route: Route; params: Record<string, string> } | 'method' | null {
    const parts = path.split('/').filter(Boolean);
    let wrongMethod = false;
    for (const route of this.routes) {
      if (route.parts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const ok = route.parts.every((p, i) => {
        const actual = parts[i] as string;
        if (p.startsWith(':')) {
          params[p.slice(1)] = decodeURIComponent(actual);
          return true;
        }
        return p === actual;
      });
      if (!ok) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        wrongMethod = true;
        continue;
      }
      return { route, params };
    }
    return wrongMethod ? 'method' : null;
  }

  /** match(), undefined when a parameter is not valid percent-encoding. */
  private tryMatch(method: string, path: string): ReturnType<AdminServer['match']> | undefined {
    try {
      return this.match(method, path);
    } catch {
      return undefined;
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let reply: AdminReply;
    const refused = this.guard?.check(req.method ?? 'GET', req.headers) ?? null;
    if (refused !== null) {
      log('WARN', 'admin request refused', { method: req.method, path: req.url, reason: refused.body.error });
      // Nothing of the request is read: the connection closes after the answer.
      return this.answer(req, res, json(refused.status, refused.body), true);
    }
    const target = parseTarget(req.url ?? '/');
    const found = target === null ? undefined : this.tryMatch(req.method ?? 'GET', target.pathname);
    try {
      if (target === null || found === undefined) reply = json(400, { error: `malformed request target ${JSON.stringify(req.url)}` });
      else if (found === null) reply = json(404, { error: `no admin endpoint ${target.pathname}; see /help` });
      else if (found === 'method') reply = json(405, { error: `method ${req.method} not allowed on ${target.pathname}` });
      else if (this.token !== null && !(found.route.parts.join('/') === 'ready' && !found.route.mutating) && !bearerMatches(req.headers.authorization, this.token)) {
        reply = json(401, { error: 'this admin endpoint needs Authorization: Bearer <token>' });
      } else {
        const body = await readBody(req);
        if (body === null) reply = json(413, { error: `request body over ${MAX_BODY} bytes` });
        else if (typeof body !== 'string') reply = body;
        else {
          reply = await found.route.handler({
            method: req.method ?? 'GET',
            path: target.pathname,
            query: target.searchParams,
            headers: req.headers,
            params: found.params,
            body,
          });
        }
      }
    } catch (err) {
      reply = json(500, { error: (err as Error).message });
    }
    this.answer(req, res, reply, false);
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse, reply: AdminReply, close: boolean): void {
    if (res.destroyed) return;
    if (close) res.shouldKeepAlive = false;
    const payload = typeof reply.body === 'string' ? reply.body : `${JSON.stringify(reply.body, null, 2)}\n`;
    res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json', 'content-length': Buffer.byteLength(payload), [ADMIN_HEADER]: ADMIN_HEADER_VALUE });
    res.end(req.method === 'HEAD' ? undefined : payload);
  }
}

/** The request target as a URL, null when it is not a valid origin-form path (e.g. `//a:99999/`). */
function parseTarget(raw: string): URL | null {
  if (!raw.startsWith('/')) return null;
  try {
    // Resolved against a fixed origin: a target such as `//host/` is a path here, never an authority.
    return new URL(`http://admin${raw}`);
  } catch {
    return null;
  }
}

/** The body as text; null when too large, a 400 answer when it is not valid UTF-8. */
function readBody(req: http.IncomingMessage): Promise<string | null | AdminReply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return resolve(null);
      try {
        resolve(decodeUtf8(Buffer.concat(chunks)));
      } catch (err) {
        if (!(err instanceof InvalidUtf8)) throw err;
        resolve(json(400, { error: `body is ${err.message}` }));
      }
    });
    req.on('error', reject);
  });
}
