/** The throwaway thread of `scriptLoadProblem`: loads the script once and reports. */
import { workerData } from 'node:worker_threads';
import { reportLoad, reportLoading } from './load-check';
import { ScriptSandbox } from './script-sandbox';

const { code, shared } = workerData as { code: string; shared: SharedArrayBuffer };
let problem: string | null = null;
reportLoading(shared);
try {
  ScriptSandbox.load(code);
} catch (err) {
  problem = (err as Error).message;
}
reportLoad(shared, problem);
