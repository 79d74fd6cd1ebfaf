/** The wrapper that turns a script's source into a function of (module, exports). */
export function wrapScript(code: string): string {
  return `(function (module, exports) {\n${code}\n})`;
}

/** What a script sees: plain data only. */
export interface ScriptRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  remoteAddress: string;
  body: string | null;
}

/** What `onResponse` sees when the filter runs after the response exists (after a Proxy in the flow). */
export interface ScriptResponse {
  status: number;
  headers: Record<string, string>;
  request: ScriptRequest;
}

/** What a script may return; every field optional. In the response phase `setHeaders` and `status` change the response. */
export interface ScriptOutcome {
  /** Answer locally with this status (ends the pipeline unless jumpIf says otherwise). */
  status?: number;
  body?: string;
  /** Response headers of the local answer. */
  headers?: Record<string, string>;
  /** Request headers to set before later filters (empty string removes). */
  setHeaders?: Record<string, string>;
  /** A new request path. */
  path?: string;
  /** Result name for jumpIf. */
  result?: string;
}
