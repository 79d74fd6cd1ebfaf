import type { Bridge } from './bridge';

/** How often open WebSockets are checked for idleness: one timer per worker, not one per connection. */
export const SWEEP_INTERVAL_MS = 500;

const open = new Set<Bridge>();
let timer: NodeJS.Timeout | null = null;

function sweep(): void {
  const now = performance.now();
  for (const b of open) {
    if (now - b.lastActivity >= b.limits.idleTimeout) b.closeBoth(1001, 'idle timeout');
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
