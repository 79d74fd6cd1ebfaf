// The sticky scenario's checks: a cookie from ngate pins every request that
// carries it to one backend, before, during and after the load.
import type { BackendProcess } from './processes';

/** What a session-carrying scenario adds to the ngate run. */
export interface LoadSession {
  /** Headers every load request adds. */
  readonly headers: Record<string, string>;
  /** What was verified before the load, one line each. */
  readonly checked: string[];
  /** Verifies again once a load of `loaded` completed requests is over; resolves with what it checked, rejects when stickiness broke. */
  afterLoad(loaded: number): Promise<string[]>;
}

/** Sequential probes per check: enough that round robin over 3 backends shows all of them. */
const PROBES = 20;

interface Probe {
  backend: string;
  setCookies: string[];
}

async function probe(url: string, cookie?: string): Promise<Probe> {
  const res = await fetch(url, { headers: cookie === undefined ? {} : { cookie } });
  await res.text();
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return { backend: res.headers.get('x-backend-id') ?? '(none)', setCookies: res.headers.getSetCookie() };
}

async function probes(url: string, cookie?: string): Promise<Probe[]> {
  const all: Probe[] = [];
  for (let i = 0; i < PROBES; i++) all.push(await probe(url, cookie));
  return all;
}

/** Every probe with the cookie reaches `expected` and none is given a new cookie. */
async function checkPinned(url: string, cookie: string, expected: string, when: string): Promise<string> {
  const seen = await probes(url, cookie);
  const backends = [...new Set(seen.map((p) => p.backend))];
  const reset = seen.filter((p) => p.setCookies.length > 0).length;
  if (backends.length !== 1 || backends[0] !== expected || reset > 0) {
    throw new Error(`sticky ${when}: ${PROBES} requests with the cookie reached ${backends.join(', ')} (expected ${expected} only), ${reset} got a new cookie`);
  }
  return `${when}: ${PROBES}/${PROBES} requests with the cookie reached ${expected}, none got a new cookie`;
}

async function requestCounts(backends: readonly BackendProcess[]): Promise<number[]> {
  return Promise.all(
    backends.map(async (b) => {
      const res = await fetch(`${b.url}/__requests`);
      return Number(await res.text());
    }),
  );
}

/**
 * Gets the cookie from a first request, shows that requests without it are
 * spread (else the pinned check would prove nothing), that requests with it
 * all reach one backend; after the load, that this backend served every
 * request of it, the others none, and the cookie still pins.
 * Backends answer `x-backend-id: b<i+1>`, in the order of `backends`.
 */
export async function stickySession(url: string, backends: readonly BackendProcess[], cookieName: string): Promise<LoadSession> {
  const first = await probe(url);
  const cookie = first.setCookies.map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith(`${cookieName}=`));
  if (cookie === undefined) throw new Error(`sticky: the first response set no ${cookieName} cookie (set-cookie: ${first.setCookies.join(' | ')})`);
  const pinned = first.backend;
  const checked = [`first request: reached ${pinned}, Set-Cookie ${cookie}`];
  const spread = [...new Set((await probes(url)).map((p) => p.backend))].sort();
  if (spread.length < 2) throw new Error(`sticky: ${PROBES} requests without the cookie all reached ${spread.join(', ')}: the check would prove nothing`);
  checked.push(`without the cookie: ${PROBES} requests reached ${spread.join(', ')}`);
  checked.push(await checkPinned(url, cookie, pinned, 'before the load'));
  const before = await requestCounts(backends);
  return {
    headers: { cookie },
    checked,
    async afterLoad(loaded) {
      const after = await requestCounts(backends);
      const served = after.map((n, i) => ({ id: `b${i + 1}`, n: n - (before[i] ?? 0) }));
      const line = `during the load and its warm-up (${loaded} measured requests): ${served.map((s) => `${s.id} served ${s.n}`).join(', ')}`;
      // The pinned one may have served a few more: requests still in flight when the load stopped.
      const left = served.some((s) => (s.id === pinned ? s.n < loaded : s.n > 0));
      if (left) throw new Error(`sticky: load with the cookie left ${pinned}: ${line}`);
      return [line, await checkPinned(url, cookie, pinned, 'after the load')];
    },
  };
}
