/** What the supervisor tells the engine process it starts (one JSON value in the ENGINE_OPTIONS_ENV variable). */
export interface EngineOptions {
  readonly configFiles: string[];
  /** Holds running_objects.yaml; once that file exists it wins over configFiles. */
  readonly dataDir: string;
  readonly workers: number;
  readonly drainTimeoutMs: number;
  readonly swapTimeoutMs: number;
  /** Admin API address and port (port 0: any free port, reported in the ready line). */
  readonly adminAddress: string;
  readonly adminPort: number;
  /** Bearer token for mutating admin calls; required when the admin address is not loopback. */
  readonly adminToken: string | null;
  /** DNS servers (`address[:port]`) for `discovery: dns` pools; empty: the system's resolv.conf servers. */
  readonly dnsServers: string[];
  /**
   * The last generation an earlier engine of this supervisor committed (0: none): a restarted
   * engine counts on from it, so the generation only goes up while ngate runs.
   */
  readonly generationBase?: number;
}

/** Exit code for a config the engine refuses: the supervisor must not restart on it (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

/** The environment variable carrying the EngineOptions JSON; the engine removes it once read. */
export const ENGINE_OPTIONS_ENV = 'NGATE_ENGINE_OPTIONS';

/** Reads the options and drops them from the environment, so worker threads and any child never inherit the token. */
export function takeEngineOptions(): EngineOptions {
  const text = process.env[ENGINE_OPTIONS_ENV] ?? '{}';
  delete process.env[ENGINE_OPTIONS_ENV];
  return JSON.parse(text) as EngineOptions;
}
