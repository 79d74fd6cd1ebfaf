/** What the supervisor tells the engine process it starts (passed as one JSON argument). */
export interface EngineOptions {
  readonly configFiles: string[];
  readonly workers: number;
  readonly drainTimeoutMs: number;
  readonly swapTimeoutMs: number;
}

/** Exit code for a config the engine refuses: the supervisor must not restart on it (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;
