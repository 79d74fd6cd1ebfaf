import assert from 'node:assert/strict';
import { http } from './http';

/** Reads the Envoy text /stats into name → value (histogram lines kept as text). */
export async function readStats(admin: string): Promise<Map<string, string>> {
  const r = await http(`${admin}/stats`);
  if (r.status !== 200) throw new Error(`/stats answered ${r.status}`);
  const out = new Map<string, string>();
  for (const line of r.body.split('\n')) {
    if (line === '') continue;
    const at = line.indexOf(': ');
    if (at < 0) throw new Error(`malformed /stats line: ${line}`);
    out.set(line.slice(0, at), line.slice(at + 2));
  }
  return out;
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Replaces object `name` through the object API (PUT) and asserts it was applied. */
export async function putObject(admin: string, name: string, body: string): Promise<void> {
  const r = await http(`${admin}/apis/v2/objects/${name}`, { method: 'PUT', body });
  assert.equal(r.status, 200, r.body);
}
