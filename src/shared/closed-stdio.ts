/**
 * `ngate start` must outlive whatever reads its output. When stdout or stderr
 * is a pipe whose reader went away (`ngate start 2>&1 | logger`, a log
 * collector that restarted), the next write fails with EPIPE; unhandled, that
 * error ends the process, and a supervisor that dies takes the engine with it.
 * The lines are lost instead (as nginx loses them) and the gateway serves on.
 */
export function surviveClosedStdio(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
}
