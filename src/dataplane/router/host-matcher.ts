import type { HostRuleSpec } from '../../config/http-server-schema';

/** Matches the request host (lowercase, port stripped) against a rule's host, hosts and hostRegexp. */
export type HostMatcher = (host: string) => boolean;

const ANY_HOST: HostMatcher = () => true;

function one(pattern: string): HostMatcher {
  const p = pattern.toLowerCase();
  if (p === '*') return ANY_HOST;
  if (p.startsWith('*.')) {
    const suffix = p.slice(1); // ".example.com"
    return (host) => host.length > suffix.length && host.endsWith(suffix);
  }
  return (host) => host === p;
}

export function compileHostMatcher(rule: HostRuleSpec): HostMatcher {
  const matchers: HostMatcher[] = [];
  if (rule.host !== undefined) matchers.push(one(rule.host));
  for (const h of rule.hosts ?? []) matchers.push(one(h));
  if (rule.hostRegexp !== undefined) {
    const re = new RegExp(rule.hostRegexp);
    matchers.push((host) => re.test(host));
  }
  if (matchers.length === 0) return ANY_HOST;
  if (matchers.length === 1) return matchers[0] as HostMatcher;
  return (host) => matchers.some((m) => m(host));
}

/** The Host header without port, lowercased. IPv6 literals keep their brackets. */
export function normalizeHost(hostHeader: string | undefined): string {
  if (hostHeader === undefined) return '';
  let end = hostHeader.length;
  if (hostHeader.charCodeAt(0) === 91 /* [ */) {
    const close = hostHeader.indexOf(']');
    end = close === -1 ? end : close + 1;
  } else {
    const colon = hostHeader.indexOf(':');
    if (colon !== -1) end = colon;
  }
  return hostHeader.slice(0, end).toLowerCase();
}
