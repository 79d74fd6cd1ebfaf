/**
 * Operator log lines: `2026-11-21T10:00:00.000Z INFO message key=value ...`
 * on stderr (stdout stays free for command output), one line per event.
 */
export type Level = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

function fmt(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

export function log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  let line = `${new Date().toISOString()} ${level} ${message}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${fmt(v)}`;
  process.stderr.write(`${line}\n`);
}
