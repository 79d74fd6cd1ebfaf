/**
 * Operator log lines: `2026-11-21T10:00:00.000Z INFO message key=value ...`
 * on stderr (stdout stays free for command output), one line per event.
 */
export type Level = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

function fmt(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

/** A message with a stack trace or a quoted file would span lines: journald and log shippers would see each as an event. */
function oneLine(message: string): string {
  return /[\r\n]/.test(message) ? message.replace(/\r?\n|\r/g, '\\n') : message;
}

export function log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  let line = `${new Date().toISOString()} ${level} ${oneLine(message)}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${fmt(v)}`;
  process.stderr.write(`${line}\n`);
}
