import type { HostRuleSpec } from './http-server-schema';

/**
 * The stats key of every path rule of an HTTPServer, in router order (host
 * rules, then their paths): its `name`, else its index among all the
 * server's path rules. Names cannot start with a digit, so the two never clash.
 */
export function routeKeys(rules: readonly HostRuleSpec[]): string[] {
  const keys: string[] = [];
  for (const rule of rules) for (const p of rule.paths) keys.push(p.name ?? String(keys.length));
  return keys;
}
