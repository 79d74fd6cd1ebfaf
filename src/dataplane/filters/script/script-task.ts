/**
 * Runs inside the offload pool's threads (piscina task module). Scripts are
 * compiled once per thread per source text, in a context of their own that
 * has no `require`, `process` or timers: a script transforms data, it does
 * not reach into the gateway.
 */
import { createContext, Script, type Context } from 'node:vm';
import { wrapScript, type ScriptOutcome, type ScriptRequest } from './script-source';

type Handler = (request: ScriptRequest) => ScriptOutcome | Promise<ScriptOutcome> | undefined;

const compiled = new Map<string, Handler>();

function compile(code: string): Handler {
  let handler = compiled.get(code);
  if (handler !== undefined) return handler;
  const context: Context = createContext({ console, URL, URLSearchParams, TextEncoder, TextDecoder, JSON, Math, Date });
  const factory = new Script(wrapScript(code), { filename: 'script.js' }).runInContext(context) as (m: { exports: unknown }, e: unknown) => void;
  const mod: { exports: unknown } = { exports: {} };
  factory(mod, mod.exports);
  if (typeof mod.exports !== 'function') throw new Error('the script must set module.exports to a function');
  handler = mod.exports as Handler;
  compiled.set(code, handler);
  return handler;
}

export default async function run(task: { code: string; request: ScriptRequest }): Promise<ScriptOutcome> {
  const outcome = await compile(task.code)(task.request);
  // Structured clone would reject functions and the like: keep only plain data.
  return outcome === undefined || outcome === null ? {} : (JSON.parse(JSON.stringify(outcome)) as ScriptOutcome);
}
