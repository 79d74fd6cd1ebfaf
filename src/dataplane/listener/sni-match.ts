/**
 * SNI name lookup shared by both listener engines: names are stored lower
 * case (exact names and `*.suffix` wildcards with the `*.`); a client's name
 * matches without regard to case, exactly first, then a wildcard covering
 * its first label only (RFC 6125 §6.4.3: `*.example.com` does not cover
 * `a.b.example.com`).
 */
export function matchServerName<T>(byName: ReadonlyMap<string, T>, servername: string): T | undefined {
  const name = servername.toLowerCase();
  const exact = byName.get(name);
  if (exact !== undefined) return exact;
  const dot = name.indexOf('.');
  return dot > 0 ? byName.get(`*${name.slice(dot)}`) : undefined;
}
