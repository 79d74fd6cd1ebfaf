/** What the supervisor tells the engine process it starts (passed as one JSON argument). */
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
}

/** Exit code for a config the engine refuses: the supervisor must not restart on it (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;
