import { bool, duration, int, object, refine, size, str, withDefault, type Infer } from '../../../config/schema-kit';
import { scriptLoadProblem } from './load-check';

/** How long validation waits for a script to load (thread start included) before refusing it. */
const LOAD_CHECK_MS = 2000;

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
      // Loaded once in a throwaway context: a script that does not compile or exports no handler would fail every request.
      const problem = scriptLoadProblem(code, LOAD_CHECK_MS);
      if (problem !== null) issues.push({ path, message: problem });
    }),
    /** Past this the task is stopped (its thread replaced) and the request answered 500. */
    timeout: withDefault(
      refine(duration(), (ms, path, issues) => {
        if (ms <= 0) issues.push({ path, message: 'a Script timeout must be more than 0' });
      }),
      200,
    ),
    /** Hand the request body to the script (buffered up to maxBodySize). */
    withBody: withDefault(bool(), false),
    maxBodySize: withDefault(size(), 64 * 1024),
    /** Offload threads per worker for Script filters. */
    threads: withDefault(int({ min: 1, max: 16 }), 1),
  },
  { name: 'a Script filter' },
);
export type ScriptSpec = Infer<typeof scriptSchema>;
