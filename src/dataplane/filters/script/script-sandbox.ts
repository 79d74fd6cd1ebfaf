/**
 * The realm a user script runs in. Nothing of the host realm is reachable
 * from it: every host object (and every host function) leads back to the
 * host's `Function` through `.constructor.constructor`, and from there to
 * `process`. So the context's global is a null-prototype object, `module`
 * and `exports` are made inside the context, the request goes in as a JSON
 * string parsed by the context's own JSON, the answer comes out as a JSON
 * string, errors come out as strings, and an async script's promise is
 * followed with the context's own `then`, captured before the script runs.
 * The context refuses `eval`/`Function` from strings and WebAssembly, and
 * a script using `import()` is refused (no-import.ts).
 *
 * This guards against accidents, not against a hostile script: `vm` is no
 * security boundary (a stack overflow inside the host's stack-trace
 * formatter hands the script a host-realm RangeError, for one). Scripts are
 * trusted code, as the README says.
 */
import { createContext, Script, type Context } from 'node:vm';
import { importProblem } from './no-import';
import { wrapScript } from './script-source';

/** Runs in the context before the script: captures what it relies on, then hands back entry points. */
const BOOTSTRAP = `(function (hostLog) {
  'use strict';
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const apply = Reflect.apply;
  const defineProperty = Object.defineProperty;
  const freeze = Object.freeze;
  const NativePromise = Promise;
  const then = Promise.prototype.then;
  const S = String;
  // Stack-trace hooks receive call sites of host frames: the script cannot install one.
  defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: false });
  defineProperty(globalThis, 'Error', { value: Error, writable: false, configurable: false });
  const describe = (e) => {
    try {
      const m = e !== null && typeof e === 'object' && 'message' in e ? e.message : e;
      return typeof m === 'string' ? m : S(m);
    } catch {
      return 'the script threw a value that cannot be shown';
    }
  };
  const text = (args) => {
    let s = '';
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      let t;
      try {
        t = typeof a === 'string' ? a : stringify(a);
        if (typeof t !== 'string') t = S(a);
      } catch {
        t = '[unprintable]';
      }
      s += (i === 0 ? '' : ' ') + t;
    }
    return s;
  };
  const log = (...args) => {
    try { hostLog(text(args)); } catch {}
  };
  defineProperty(globalThis, 'console', { value: freeze({ log, info: log, warn: log, error: log, debug: log }), writable: true, configurable: true });
  let onRequest = null;
  let onResponse = null;
  const pick = (f) => (typeof f === 'function' ? f : null);
  return freeze({
    load(factory) {
      try {
        const module = { exports: {} };
        apply(factory, undefined, [module, module.exports]);
        const exported = module.exports;
        if (typeof exported === 'function') onRequest = exported;
        else if (exported !== null && (typeof exported === 'object')) {
          onRequest = pick(exported.onRequest);
          onResponse = pick(exported.onResponse);
        }
        if (onRequest === null && onResponse === null) return 'the script must export a function, onRequest(req) or onResponse(res)';
        return '';
      } catch (e) {
        return 'the script threw while loading: ' + describe(e);
      }
    },
    call(phase, inputJson, done) {
      const finish = (ok, value) => {
        try { done(ok, value); } catch {}
      };
      try {
        const handler = phase === 'request' ? onRequest : onResponse;
        if (handler === null) return finish(true, '{}');
        const input = parse(inputJson);
        const result = apply(handler, undefined, [input]);
        const settled = new NativePromise((resolve) => resolve(result));
        apply(then, settled, [
          (out) => {
            try {
              const json = out === undefined || out === null ? '{}' : stringify(out);
              finish(true, typeof json === 'string' ? json : '{}');
            } catch (e) {
              finish(false, 'the script returned a value that is not JSON: ' + describe(e));
            }
          },
          (e) => finish(false, describe(e)),
        ]);
      } catch (e) {
        finish(false, describe(e));
      }
    },
  });
})`;

type Done = (ok: unknown, value: unknown) => void;
interface Entry {
  load(factory: unknown): unknown;
  call(phase: string, inputJson: string, done: Done): void;
}

export interface SandboxOptions {
  /** Where `console.*` lines go; dropped when absent. */
  log?: (line: string) => void;
}

export class ScriptSandbox {
  private constructor(private readonly entry: Entry) {}

  /** Compiles and loads `code` in a fresh context; throws with a message when it does not compile, throws while loading or exports no handler. */
  static load(code: string, opts: SandboxOptions = {}): ScriptSandbox {
    const wrapped = wrapScript(code);
    const refused = importProblem(wrapped);
    if (refused !== null) throw new Error(refused);
    const global = Object.create(null) as Context;
    const context = createContext(global, { codeGeneration: { strings: false, wasm: false } });
    const log = opts.log;
    const hostLog = (line: unknown): void => {
      if (log !== undefined && typeof line === 'string') log(line);
    };
    const entry = (new Script(BOOTSTRAP, { filename: 'ngate-script-bootstrap.js' }).runInContext(context) as (l: typeof hostLog) => Entry)(hostLog);
    let compiled: Script;
    try {
      compiled = new Script(wrapped, { filename: 'script.js' });
    } catch (err) {
      throw new Error(`script does not compile: ${(err as Error).message}`);
    }
    let problem: unknown;
    try {
      problem = entry.load(compiled.runInContext(context));
    } catch {
      // Thrown by top-level code outside the module function: not inspected here.
      problem = 'the script threw while loading';
    }
    if (problem !== '') throw new Error(typeof problem === 'string' ? problem : 'the script could not be loaded');
    return new ScriptSandbox(entry);
  }

  /** Runs one phase's handler on `input` (plain data); resolves to the handler's answer as plain data, `{}` when it has none. */
  call(phase: 'request' | 'response', input: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const done: Done = (ok, value) => {
        const text = typeof value === 'string' ? value : '';
        if (ok !== true) return reject(new Error(text));
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new Error('the script answered with something that is not JSON'));
        }
      };
      try {
        this.entry.call(phase, JSON.stringify(input), done);
      } catch {
        // Whatever came out is a context object: not inspected here.
        reject(new Error('the script failed'));
      }
    });
  }
}
