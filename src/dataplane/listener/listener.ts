import type { CompiledServer } from '../../config/compiled';

/**
 * What a worker needs from one HTTPServer's listener, whatever the engine
 * (uWebSockets.js or node:http/node:http2). The request path behind it is the
 * engine-neutral `RequestCore`; engines differ only in their `Exchange`.
 */
export interface Listener {
  readonly serverName: string;
  readonly address: string;
  readonly port: number;
  /** Binds; rejects when the port cannot be taken. */
  listen(): Promise<void>;
  /**
   * Kept across a config swap: prepares what of the new spec can change in
   * place (node engine: TLS certificates) and returns the step applied at
   * commit, or null when nothing applies. Throws to refuse the swap.
   */
  prepareUpdate?(spec: CompiledServer): (() => void) | null;
  /** Stops accepting; open connections finish their requests, idle ones are closed where the engine allows. */
  close(): void;
}
