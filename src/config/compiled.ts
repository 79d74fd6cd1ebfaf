/**
 * The compiled config: plain data (no functions, no classes) that crosses
 * the thread boundary by postMessage (SharedArrayBuffers in it, such as a
 * RateLimiter's zone, are shared, not copied) and from which every worker
 * builds its runtime. Nothing on the request path reads YAML or specs other than these.
 */
import type { HostRuleSpec } from './http-server-schema';
import type { ServerTls } from './tls-material';

export interface CompiledServer {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  readonly https: boolean;
  /** Certificates (PEM text, checked) when https is on. */
  readonly tls: ServerTls | null;
  readonly engine: 'uws' | 'node';
  /** Resolved: never empty. */
  readonly protocols: ('http1' | 'h2c')[];
  readonly pipelining: 'hold' | 'close';
  readonly keepAlive: boolean;
  readonly keepAliveTimeout: number;
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly maxConnections: number;
  readonly clientMaxBodySize: number;
  readonly maxHeaderCount: number;
  readonly maxHeaderBytes: number;
  readonly xForwardedFor: boolean;
  readonly requestId: boolean;
  /** null when this server does not log requests. */
  readonly accessLog: { readonly path: string; readonly format: string } | null;
  readonly rules: HostRuleSpec[];
  /** Stats slot of this listener, assigned by the coordinator's slot allocator (-1 before). */
  readonly slot: number;
  /** Stats slot of each path rule, in router order (empty before the slot allocator ran). */
  readonly routeSlots: readonly number[];
}

export interface CompiledFilter {
  readonly name: string;
  readonly kind: string;
  /** The spec as its kind's schema checked it (defaults applied). */
  readonly spec: Record<string, unknown>;
}

export interface CompiledStep {
  readonly filter: number;
  /** result → index of the next step, or END_STEP. */
  readonly jumpIf: Record<string, number>;
}

export const END_STEP = -1;

export interface CompiledPipeline {
  readonly name: string;
  readonly steps: CompiledStep[];
  readonly filters: CompiledFilter[];
}

export interface CompiledConfig {
  readonly generation: number;
  readonly servers: CompiledServer[];
  readonly pipelines: CompiledPipeline[];
}
