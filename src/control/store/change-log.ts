/**
 * One gateway log entry per change to the running objects, whatever asked
 * for it (SIGHUP, `ngate reload`, the object API): the operator reads in one
 * place what was applied, as which generation, and why a change was refused.
 */
import { formatConfigError } from '../../config/validate';
import { log, type Level } from '../../shared/log';
import type { ChangeOutcome } from './object-service';

/**
 * `what`: "reload", "create", ... `fields`: where it came from (via=SIGHUP, via=admin).
 * An applied change logs its warnings, a refusal every error, as `file:line` first; a client's mistake (4xx)
 * is a WARN, a refusal the gateway caused (5xx) or a reload of its own files an ERROR.
 */
export function logChange(what: string, outcome: ChangeOutcome, fields: Record<string, unknown>, refusalLevel?: Level): void {
  if (outcome.ok) {
    // What `ngate validate` would warn about, as the start logs it.
    for (const w of outcome.warnings) log('WARN', formatConfigError(w));
    log('INFO', `${what} applied`, { generation: outcome.generation, objects: outcome.objects.join(','), ...fields });
    return;
  }
  // A change refused because the gateway drains is expected, not a failure of the gateway.
  const level = outcome.code === 'NGATE_ERR_SHUTTING_DOWN' ? 'WARN' : (refusalLevel ?? (outcome.status >= 500 ? 'ERROR' : 'WARN'));
  for (const e of outcome.errors) log(level, formatConfigError(e));
  log(level, `${what} refused; the running config stays`, { status: outcome.status, error: outcome.error, ...fields });
}
