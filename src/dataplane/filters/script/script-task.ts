/**
 * Runs inside the offload pool's threads (piscina task module). Scripts are
 * compiled once per thread per source text, in a context of their own that
 * has no `require`, `process` or timers: a script transforms data, it does
 * not reach into the gateway.
 */
import { createContext, Script, type Context } from 'node:vm';
import { wrapScript, type ScriptOutcome, type ScriptRequest, type ScriptResponse } from './script-source';

type Handler = (input: ScriptRequest | ScriptResponse) => ScriptOutcome | Promise<ScriptOutcome> | undefined;
interface Handlers {
  onRequest: Handler | null;
  onResponse: Handler | null;
}

/** Compiled scripts by source text; bounded, since every edit of a script is a new source. */
const compiled = new Map<string, Handlers>();
const COMPILED_LIMIT = 64;

function compile(code: string): Handlers {
  let handlers = compiled.get(code);
  if (handlers !== undefined) return handlers;
  const context: Context = createContext({ console, URL, URLSearchParams, TextEncoder, TextDecoder, JSON, Math, Date });
  const factory = new Script(wrapScript(code), { filename: 'script.js' }).runInContext(context) as (m: { exports: unknown }, e: unknown) => void;
  const mod: { exports: unknown } = { exports: {} };
  factory(mod, mod.exports);
  const exported = mod.exports as Handler | { onRequest?: unknown; onResponse?: unknown };
  if (typeof exported === 'function') handlers = { onRequest: exported, onResponse: null };
  else {
    const pick = (f: unknown): Handler | null => (typeof f === 'function' ? (f as Handler) : null);
    handlers = { onRequest: pick(exported?.onRequest), onResponse: pick(exported?.onResponse) };
    if (handlers.onRequest === null && handlers.onResponse === null) throw new Error('the script must export a function, onRequest(req) or onResponse(res)');
  }
  if (compiled.size >= COMPILED_LIMIT) compiled.delete(compiled.keys().next().value as string);
  compiled.set(code, handlers);
  return handlers;
}

export default async function run(task: { code: string; phase: 'request' | 'response'; input: ScriptRequest | ScriptResponse }): Promise<ScriptOutcome> {
  const handlers = compile(task.code);
  const handler = task.phase === 'request' ? handlers.onRequest : handlers.onResponse;
  if (handler === null) return {};
  const outcome = await handler(task.input);
  // Structured clone would reject functions and the like: keep only plain data.
  return outcome === undefined || outcome === null ? {} : (JSON.parse(JSON.stringify(outcome)) as ScriptOutcome);
}
