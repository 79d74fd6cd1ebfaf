import type { RequestContext } from '../context';
import { cookieValue } from '../cookies';

/** What a hash policy hashes: a string from the request, or null when the request does not carry it. */
export type KeyOf = (ctx: RequestContext) => string | null;

export const ipKey: KeyOf = (ctx) => ctx.remoteAddress;

export function headerKey(name: string): KeyOf {
  const lower = name.toLowerCase();
  return (ctx) => ctx.headers.get(lower) ?? null;
}

export function cookieKey(name: string): KeyOf {
  return (ctx) => cookieValue(ctx.headers.getAll('cookie'), name);
}
