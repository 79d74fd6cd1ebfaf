import type { Readable } from 'node:stream';
import type { RequestContext } from '../context';
import type { RuntimeHolder } from '../runtime';
import { Exchange } from '../listener/exchange';
import type { RequestCore } from '../listener/request-core';
import { Bridge } from './bridge';
import type { WsUpgrade } from './ws-upgrade';

/**
 * One upgrade request from the engine's upgrade handler until the client
 * got its 101 or an HTTP answer. As an Exchange it shares the request
 * core's admission (`RequestCore.admit`), counters and access log; its
 * `finish` runs once the handshake is answered, but on a 101 the
 * maxConnections place moves to the bridge, which gives it back when the
 * WebSocket closes. Each engine supplies the two ways to answer.
 */
export abstract class Handshake extends Exchange {
  constructor(
    ctx: RequestContext,
    holder: RuntimeHolder,
    readonly up: WsUpgrade,
  ) {
    super(ctx, holder);
  }

  readBody(): Readable {
    throw new Error('a WebSocket upgrade has no request body');
  }

  /** The HTTP answer to an upgrade that did not become a WebSocket; the connection always closes. Calls `finish`. */
  abstract override write(status: number): void;

  /** Sends the 101 (with `ctx.responseHeaders` and `up.protocol`) and hands the open client side to the bridge. */
  abstract accept(bridge: Bridge): void;

  /** True when the client's connection can no longer take a 101 (checked before the bridge is built). */
  clientGone(): boolean {
    return false;
  }

  /** The client went away before the handshake was answered. */
  readonly aborted = (): void => {
    this.ctx.abort();
    this.up.discard();
    this.finish();
  };
}

/**
 * Runs an upgrade like any request: admission, router, pipeline; a Proxy
 * at its end opens the upstream WebSocket (see connectUpstream). Then
 * `complete` answers it.
 */
export function runUpgrade(core: RequestCore, hs: Handshake): void {
  const { ctx, runtime } = hs;
  try {
    const server = core.serverOf(runtime);
    if (runtime === null || server === undefined) {
      ctx.fail('NGATE_ERR_LISTENER_REMOVED', 'connect again');
      return hs.refuse(completeFn);
    }
    const refusal = core.admit(hs, server);
    if (refusal !== null) {
      ctx.fail(refusal.code, refusal.detail);
      return hs.refuse(completeFn);
    }
    const route = server.router.find(ctx);
    if (route !== null) hs.routeCounters = route.counters;
    if (route === null) ctx.fail('NGATE_ERR_NO_ROUTE');
    else if (route.site !== null) ctx.fail('NGATE_ERR_BAD_REQUEST', 'a static route does not take WebSocket upgrades');
    else {
      const pipeline = route.pipeline;
      if (pipeline === null) ctx.fail('NGATE_ERR_PIPELINE_MISSING', `pipeline "${route.backend}" does not exist`);
      else {
        route.rewrite(ctx);
        const running = pipeline.run(ctx);
        if (running !== undefined) {
          running.then(
            () => complete(hs),
            (err: unknown) => internalError(hs, err),
          );
          return;
        }
      }
    }
    complete(hs);
  } catch (err) {
    internalError(hs, err);
  }
}

function internalError(hs: Handshake, err: unknown): void {
  if (hs.ctx.aborted || hs.finished) return;
  process.emitWarning(`ngate: WebSocket upgrade failed inside the gateway: ${(err as Error)?.stack ?? String(err)}`);
  hs.up.discard();
  hs.ctx.fail('NGATE_ERR_INTERNAL');
  complete(hs);
}

const completeFn = (ex: Exchange): void => complete(ex as Handshake);

/** Answers the upgrade: a 101 and the bridge when the upstream accepted and no filter refused after it, else HTTP. */
export function complete(hs: Handshake): void {
  const { ctx, up } = hs;
  if (ctx.aborted || hs.finished) {
    up.discard();
    return;
  }
  if (hs.clientGone()) return hs.aborted();
  if (ctx.edgeHeaders !== null) ctx.applyEdgeHeaders();
  const upstream = up.upstream;
  const accepted = upstream !== null && (ctx.status === 0 || ctx.status === 101);
  if (!accepted) {
    up.discard();
    ctx.streamedBody?.cancel();
    if (ctx.status === 0) ctx.status = 200;
    hs.write(ctx.status);
    return;
  }
  const limits = up.limits;
  const endpoint = up.endpoint;
  if (limits === null || endpoint === null || hs.counters === null) throw new Error('upgrade accepted without limits, endpoint or counters');
  // The bridge owns the upstream socket, the endpoint's in-flight count and the maxConnections place from here.
  const bridge = new Bridge(upstream, endpoint, hs.counters, limits, hs.active);
  hs.active = null;
  up.upstream = null;
  up.endpoint = null;
  ctx.status = 101;
  hs.accept(bridge);
  hs.finish();
}
