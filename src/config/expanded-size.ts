/**
 * The real size of a YAML document once its aliases are expanded. yaml's own
 * `maxAliasCount` is only an estimate (alias uses × depth): an anchor on a flat
 * list costs 1 per use whatever its length, so a 30 KB file can expand to
 * millions of nodes. Walking the plain JS value counts each alias target in
 * full every time it is referenced, which is what every consumer will do.
 */

/** Nodes allowed per document: far above any real config, far below a memory problem. */
export const MAX_EXPANDED_NODES = 1_000_000;

/** The budget for a document of a file of `textLength` characters: a file without aliases always fits. */
export function nodeBudget(textLength: number): number {
  return Math.max(MAX_EXPANDED_NODES, textLength);
}

export type SizeVerdict = { ok: true } | { ok: false; reason: 'too-large' | 'cycle' };

/** Counts nodes (every value, container or scalar) up to `budget`, stopping as soon as it is exceeded. */
export function checkExpandedSize(value: unknown, budget: number): SizeVerdict {
  let count = 0;
  const ancestors = new Set<object>();
  const stack: Array<{ node: unknown; leave?: object }> = [{ node: value }];
  while (stack.length > 0) {
    const { node, leave } = stack.pop() as { node: unknown; leave?: object };
    if (leave !== undefined) {
      ancestors.delete(leave);
      continue;
    }
    if (++count > budget) return { ok: false, reason: 'too-large' };
    if (node === null || typeof node !== 'object') continue;
    if (ancestors.has(node)) return { ok: false, reason: 'cycle' };
    ancestors.add(node);
    stack.push({ node: undefined, leave: node });
    const children = node instanceof Map ? [...node.keys(), ...node.values()] as unknown[] : node instanceof Set ? [...node] as unknown[] : Array.isArray(node) ? node as unknown[] : Object.values(node);
    for (const child of children) stack.push({ node: child });
  }
  return { ok: true };
}
