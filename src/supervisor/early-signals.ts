/**
 * The signal handlers of `ngate start`, installed by bin/ngate.js before the
 * CLI and its modules load (that takes a while): a SIGHUP or SIGTERM sent
 * right after start is remembered instead of killing the process, and handed
 * to the supervisor once it exists. No imports, so loading it costs nothing.
 * (Node itself needs a few tens of milliseconds before any script runs; a
 * signal inside that window still has its default effect.)
 */
/** SIGQUIT is nginx's graceful stop: it drains like SIGTERM rather than ending the process at once. */
export type StartSignal = 'SIGTERM' | 'SIGINT' | 'SIGQUIT' | 'SIGHUP' | 'SIGUSR1';
const SIGNALS: readonly StartSignal[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1'];

const pending: StartSignal[] = [];
let handler: ((signal: StartSignal) => void) | null = null;
let installed = false;

export function installEarlySignals(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, () => (handler === null ? pending.push(s) : handler(s)));
}

/** From now on signals go to `to`; those that came before are handed over first, in order. */
export function routeSignals(to: (signal: StartSignal) => void): void {
  installEarlySignals();
  handler = to;
  for (const s of pending.splice(0)) to(s);
}
