/**
 * V8 flags the engine process runs with. A proxy allocates a little for
 * every request and keeps almost none of it: V8 sizes the young generation
 * by what survives, so it stays small and scavenges run many times a second,
 * each a pause every request in flight waits out. A fixed 16 MiB semi-space
 * makes them rarer (the survivors, and so each pause, stay as small), at the
 * price of up to 2 × 16 MiB more memory per thread. Flags the operator gave
 * node (command line or NODE_OPTIONS) win.
 */
const YOUNG_GENERATION_FLAGS = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

export function engineExecArgv(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = `${execArgv.join(' ')} ${nodeOptions ?? ''}`;
  if (/--(min|max)[-_]semi[-_]space[-_]size/.test(given)) return [...execArgv];
  return [...execArgv, ...YOUNG_GENERATION_FLAGS];
}
