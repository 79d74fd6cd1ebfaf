import { request as undiciRequest, Agent } from 'undici';

/** One keep-alive-free client so every request is a fresh connection (spreads across workers). */
const fresh = new Agent({ pipelining: 0, keepAliveTimeout: 1 });

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * The object API takes a body only with a JSON/YAML Content-Type (a browser
 * cannot send those cross-site): a body sent to it says YAML, as the CLI does,
 * unless the test set a Content-Type itself.
 */
function adminBodyHeaders(url: string, init: { headers?: Record<string, string>; body?: string | Buffer }): Record<string, string> | undefined {
  const given = init.headers ?? {};
  if (init.body === undefined || !new URL(url).pathname.startsWith('/apis/v2/') || Object.keys(given).some((k) => k.toLowerCase() === 'content-type')) return init.headers;
  return { ...given, 'content-type': 'application/yaml' };
}

export async function http(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; fresh?: boolean; signal?: AbortSignal } = {}): Promise<Reply> {
  const res = await undiciRequest(url, {
    method: (init.method ?? 'GET') as 'GET',
    headers: adminBodyHeaders(url, init),
    body: init.body,
    dispatcher: init.fresh === true ? fresh : undefined,
    signal: init.signal,
  });
  const body = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body };
}
