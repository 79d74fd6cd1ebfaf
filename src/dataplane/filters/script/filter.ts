import { bufferRequestBody } from '../../body/buffer-request-body';
import type { RequestContext } from '../../context';
import type { Filter } from '../../pipeline/filter';
import { acquireOffloadPool, OFFLOAD_TASKS, OffloadQueueFull, runOffload, type OffloadLease } from '../../offload/offload-pool';
import type { ScriptSpec } from './schema';
import type { ScriptOutcome, ScriptRequest, ScriptResponse } from './script-source';

/**
 * Script: hands the request (as plain data) to a user script on the offload
 * pool and applies what it returns: request header/path changes, or a local
 * answer. A script that throws, times out or returns nonsense answers 500
 * and never takes the worker down.
 */
export class ScriptFilter implements Filter {
  readonly kind = 'Script';
  private readonly lease: OffloadLease;

  constructor(
    readonly name: string,
    private readonly spec: ScriptSpec,
  ) {
    this.lease = acquireOffloadPool(spec.threads);
  }

  close(): void {
    this.lease.release();
  }

  async handle(ctx: RequestContext): Promise<string> {
    // After a Proxy (or any filter that answered) the script sees the response.
    if (ctx.status !== 0) return this.onResponse(ctx);
    let body: string | null = null;
    if (this.spec.withBody) {
      const buffered = await bufferRequestBody(ctx, this.spec.maxBodySize);
      if (buffered === 'too-large') {
        ctx.fail('NGATE_ERR_BODY_TOO_LARGE', `the Script filter "${this.name}" reads at most ${this.spec.maxBodySize} bytes`);
        return 'failed';
      }
      body = buffered.toString('utf8');
    }
    const outcome = await this.run(ctx, 'request', toScriptRequest(ctx, body));
    return outcome === null ? 'failed' : apply(ctx, outcome, this.name);
  }

  private async onResponse(ctx: RequestContext): Promise<string> {
    const headers: Record<string, string> = {};
    flatten(ctx.responseHeaders.items, headers);
    const outcome = await this.run(ctx, 'response', { status: ctx.status, headers, request: toScriptRequest(ctx, null) });
    // run() answered the failure; ctx.fail cancelled the upstream body.
    if (outcome === null) return 'failed';
    for (const [header, value] of Object.entries(outcome.setHeaders ?? {})) {
      const lower = header.toLowerCase();
      if (!validHeader(lower, value)) {
        scriptFailed(ctx, this.name, `set an invalid header ${JSON.stringify(header)}`);
        return 'failed';
      }
      if (value === '') ctx.responseHeaders.delete(lower);
      else ctx.responseHeaders.set(lower, String(value));
    }
    if (typeof outcome.status === 'number' && Number.isInteger(outcome.status) && outcome.status >= 200 && outcome.status <= 599) ctx.status = outcome.status;
    return outcome.result ?? '';
  }

  /** One call on the offload pool; null after answering 500 (or 503 when the pool's queue is full). */
  private async run(ctx: RequestContext, phase: 'request' | 'response', input: ScriptRequest | ScriptResponse): Promise<ScriptOutcome | null> {
    try {
      const task = { code: this.spec.code, phase, input };
      return await runOffload<ScriptOutcome>(this.lease.pool, task, { filename: OFFLOAD_TASKS.script, signal: AbortSignal.timeout(this.spec.timeout) });
    } catch (err) {
      const e = err as Error;
      if (e instanceof OffloadQueueFull) ctx.fail('NGATE_ERR_POOL_OVERFLOW', `script "${this.name}": ${e.message}`);
      else scriptFailed(ctx, this.name, e.name === 'AbortError' || e.name === 'TimeoutError' ? `timed out after ${this.spec.timeout}ms` : e.message);
      return null;
    }
  }
}

/** An absolute path as RFC 3986 spells one (no query, no fragment): what can go upstream as it is. */
const PATH = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;

/**
 * A script that failed or answered nonsense: the client gets the generic
 * internal error (the script's own words may carry anything), the worker
 * log gets the detail.
 */
function scriptFailed(ctx: RequestContext, name: string, detail: string): void {
  // A script's message can be any size: the log gets its start.
  process.emitWarning(`ngate: script "${name}" failed: ${detail.length > 1024 ? `${detail.slice(0, 1024)}...` : detail}`);
  ctx.fail('NGATE_ERR_INTERNAL');
}

function validHeader(lower: string, value: unknown): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(lower) && !/[\r\n\0]/.test(String(value)) && !FRAMING.has(lower);
}

function flatten(items: readonly string[], into: Record<string, string>): void {
  for (let i = 0; i < items.length; i += 2) {
    const name = items[i] as string;
    into[name] = name in into ? `${into[name]}, ${items[i + 1]}` : (items[i + 1] as string);
  }
}

/** Headers that decide how the body is framed: a script must never change them. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer']);

function toScriptRequest(ctx: RequestContext, body: string | null): ScriptRequest {
  const headers: Record<string, string> = {};
  flatten(ctx.headers.items, headers);
  return { method: ctx.method, path: ctx.path, query: ctx.query, headers, remoteAddress: ctx.remoteAddress, body };
}

function apply(ctx: RequestContext, o: ScriptOutcome, name: string): string {
  // Checked before anything changes: the path is what goes upstream.
  if (o.path !== undefined && o.path !== null && (typeof o.path !== 'string' || !PATH.test(o.path))) {
    scriptFailed(ctx, name, `returned an invalid path ${JSON.stringify(o.path)}`);
    return 'failed';
  }
  for (const [header, value] of Object.entries(o.setHeaders ?? {})) {
    const lower = header.toLowerCase();
    if (!validHeader(lower, value)) {
      scriptFailed(ctx, name, `set an invalid header ${JSON.stringify(header)}`);
      return 'failed';
    }
    if (value === '') ctx.headers.delete(lower);
    else ctx.headers.set(lower, String(value));
  }
  if (typeof o.path === 'string') ctx.path = o.path;
  if (typeof o.status === 'number') {
    if (!Number.isInteger(o.status) || o.status < 200 || o.status > 599) {
      scriptFailed(ctx, name, `returned status ${o.status}`);
      return 'failed';
    }
    for (const [header, value] of Object.entries(o.headers ?? {})) {
      if (!validHeader(header.toLowerCase(), value)) {
        scriptFailed(ctx, name, `answered with an invalid header ${JSON.stringify(header)}`);
        return 'failed';
      }
    }
    ctx.status = o.status;
    ctx.responseHeaders.items.length = 0;
    for (const [header, value] of Object.entries(o.headers ?? {})) ctx.responseHeaders.add(header.toLowerCase(), String(value));
    ctx.responseBody = o.body ?? '';
    return o.result ?? 'responded';
  }
  return o.result ?? '';
}
