import { parse, type Node } from 'acorn';

/**
 * Why `code` must not run, or null. `import()` is syntax, not a binding a
 * context can withhold, and on this Node its promise and its rejection are
 * host objects whatever the script's context: a script using it is refused
 * before it is compiled. A source this parser cannot read is refused too,
 * so the check never passes what it did not see.
 */
export function importProblem(wrapped: string): string | null {
  let root: Node;
  try {
    root = parse(wrapped, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: false });
  } catch (err) {
    return `script does not compile: ${(err as Error).message}`;
  }
  return hasImport(root) ? 'scripts cannot use import() (nor require, process or timers)' : null;
}

function hasImport(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some(hasImport);
  const n = node as { type?: unknown } & Record<string, unknown>;
  if (n.type === 'ImportExpression' || n.type === 'MetaProperty' || n.type === 'ImportDeclaration') return true;
  for (const key of Object.keys(n)) {
    if (key !== 'loc' && hasImport(n[key])) return true;
  }
  return false;
}
