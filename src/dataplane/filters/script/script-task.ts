/**
 * Runs inside the offload pool's threads (piscina task module). Scripts are
 * loaded once per thread per source text, each in a sandbox of its own
 * (script-sandbox.ts) that reaches nothing of the gateway: no `require`,
 * `process`, timers or host objects; a script transforms data.
 */
import { ScriptSandbox } from './script-sandbox';
import type { ScriptOutcome, ScriptRequest, ScriptResponse } from './script-source';

/** Loaded scripts by source text; bounded, since every edit of a script is a new source. */
const loaded = new Map<string, ScriptSandbox>();
const LOADED_LIMIT = 64;

function consoleLine(line: string): void {
  process.stderr.write(`ngate: script console: ${line.length > 4096 ? `${line.slice(0, 4096)}...` : line}\n`);
}

function load(code: string): ScriptSandbox {
  let sandbox = loaded.get(code);
  if (sandbox !== undefined) return sandbox;
  sandbox = ScriptSandbox.load(code, { log: consoleLine });
  if (loaded.size >= LOADED_LIMIT) loaded.delete(loaded.keys().next().value as string);
  loaded.set(code, sandbox);
  return sandbox;
}

export default async function run(task: { code: string; phase: 'request' | 'response'; input: ScriptRequest | ScriptResponse }): Promise<ScriptOutcome> {
  return (await load(task.code).call(task.phase, task.input)) as ScriptOutcome;
}
