import { request as undiciRequest, Agent } from 'undici';

/** One keep-alive-free client so every request is a fresh connection (spreads across workers). */
const fresh = new Agent({ pipelining: 0, keepAliveTimeout: 1 });

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export async function http(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; fresh?: boolean; signal?: AbortSignal } = {}): Promise<Reply> {
  const res = await undiciRequest(url, {
    method: (init.method ?? 'GET') as 'GET',
    headers: init.headers,
    body: init.body,
    dispatcher: init.fresh === true ? fresh : undefined,
    signal: init.signal,
  });
  const body = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body };
}
