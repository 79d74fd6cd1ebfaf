import { Script } from 'node:vm';
import { bool, duration, int, object, refine, size, str, withDefault, type Infer } from '../../../config/schema-kit';
import { wrapScript } from './script-source';

/**
 * A user script run on an offload thread pool, off the worker's event loop:
 * `code` is a CommonJS module whose `module.exports` is a function taking the
 * request and returning (or resolving to) what to change.
 */
export const scriptSchema = object(
  {
    name: str(),
    kind: str(),
    code: refine(str(), (code, path, issues) => {
      try {
        new Script(wrapScript(code), { filename: 'script.js' });
      } catch (err) {
        issues.push({ path, message: `script does not compile: ${(err as Error).message}` });
      }
    }),
    /** Past this the task is stopped (its thread replaced) and the request answered 500. */
    timeout: withDefault(duration(), 200),
    /** Hand the request body to the script (buffered up to maxBodySize). */
    withBody: withDefault(bool(), false),
    maxBodySize: withDefault(size(), 64 * 1024),
    /** Offload threads per worker for Script filters. */
    threads: withDefault(int({ min: 1, max: 16 }), 1),
  },
  { name: 'a Script filter' },
);
export type ScriptSpec = Infer<typeof scriptSchema>;
