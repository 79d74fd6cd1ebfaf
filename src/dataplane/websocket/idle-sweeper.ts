import type { Bridge } from './bridge';

/** How often open WebSockets are checked for idleness: one timer per worker, not one per connection. */
export const SWEEP_INTERVAL_MS = 500;

const open = new Set<Bridge>();
let timer: NodeJS.Timeout | null = null;
/** Set by a drain: every WebSocket open now or later is closed with 1001. */
let goingAway = false;
/** Upstream sockets of this worker's bridges that have not closed yet. */
let upstreamsOpen = 0;

export const GOING_AWAY_REASON = 'server shutting down';

function sweep(): void {
  const now = performance.now();
  for (const b of open) {
    if (now - b.lastActivity >= b.limits.idleTimeout) b.closeBoth(1001, 'idle timeout');
    else b.probeClient();
  }
  if (open.size === 0 && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}

export function trackIdle(b: Bridge): void {
  open.add(b);
  if (timer === null) {
    timer = setInterval(sweep, SWEEP_INTERVAL_MS);
    timer.unref();
  }
}

export function untrackIdle(b: Bridge): void {
  open.delete(b);
}

/** Open WebSockets in this worker. */
export function openWebSockets(): number {
  return open.size;
}

/**
 * Drain: WebSockets have no request to finish, so each gets a 1001 close
 * (both sides) now instead of being cut when the engine exits; one whose
 * handshake is still in flight gets it as it opens (`shuttingDown`).
 */
export function goAway(): void {
  goingAway = true;
  for (const b of [...open]) b.closeBoth(1001, GOING_AWAY_REASON);
}

export function shuttingDown(): boolean {
  return goingAway;
}

export function upstreamOpened(): void {
  upstreamsOpen++;
}

export function upstreamClosed(): void {
  upstreamsOpen--;
}

/** Upstream WebSockets still closing (their close handshake not done): a drain waits for them. */
export function openUpstreams(): number {
  return upstreamsOpen;
}
