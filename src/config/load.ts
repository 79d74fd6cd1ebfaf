/**
 * The only place that reads config files. YAML with one object per document
 * (`---`) or a list of objects; every object keeps a way to find the line of
 * any of its fields, so errors can say file:line.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseAllDocuments, isNode, type Document } from 'yaml';
import { convertFgw, isFgwConfig } from './compat/fgw';
import { checkExpandedSize, nodeBudget } from './expanded-size';
import { formatPath, type Path } from './schema-kit';

export interface SourcedObject {
  readonly value: unknown;
  readonly file: string;
  /** 1-based line of the field at `path` inside this object (or of its nearest existing parent). */
  line(path: Path): number | undefined;
  /** How errors name it when it has no usable kind and name; `object #N` (N in the whole set) when absent. */
  readonly label?: string;
}

export interface LoadError {
  readonly file: string;
  readonly line: number | undefined;
  readonly message: string;
}

export interface LoadResult {
  readonly objects: SourcedObject[];
  readonly errors: LoadError[];
}

function locator(doc: Document, prefix: Path, counter: LineCounter): (path: Path) => number | undefined {
  return (path) => {
    const full = [...prefix, ...path];
    for (let n = full.length; n >= 0; n--) {
      const node: unknown = n === 0 ? doc.contents : doc.getIn(full.slice(0, n), true);
      if (isNode(node) && node.range !== undefined && node.range !== null) return counter.linePos(node.range[0]).line;
    }
    return undefined;
  };
}

/**
 * The document as plain data, or why it cannot be used: it expands (through
 * aliases) beyond the node budget, an alias refers to its own ancestor, or
 * yaml refused it. yaml's alias-count estimate is off: the expanded tree is
 * measured instead (`expanded-size.ts`).
 */
function toValue(doc: Document, budget: number): { value: unknown } | { error: string } {
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: -1 });
  } catch (err) {
    return { error: `YAML: ${(err as Error).message}` };
  }
  const size = checkExpandedSize(value, budget);
  if (size.ok) return { value };
  return {
    error: size.reason === 'cycle'
      ? 'YAML: an alias refers to a node that contains it (a cycle)'
      : `YAML: the document expands to more than ${budget} nodes through its aliases (refused as a resource exhaustion guard)`,
  };
}

export function parseConfigText(text: string, file: string): LoadResult {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  const objects: SourcedObject[] = [];
  const errors: LoadError[] = [];
  if (!Array.isArray(docs)) {
    errors.push({ file, line: undefined, message: 'not a YAML document stream' });
    return { objects, errors };
  }
  for (const doc of docs) {
    for (const e of doc.errors) {
      errors.push({ file, line: e.linePos?.[0]?.line, message: `YAML: ${(e.message.split('\n')[0] ?? '').replace(/:\s*$/, '')}` });
    }
    if (doc.errors.length > 0) continue;
    const expanded = toValue(doc, nodeBudget(text.length));
    if ('error' in expanded) {
      errors.push({ file, line: locator(doc, [], counter)([]), message: expanded.error });
      continue;
    }
    const value = expanded.value;
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) {
      value.forEach((item: unknown, i) => objects.push({ value: item, file, line: locator(doc, [i], counter) }));
    } else if (isFgwConfig(value)) {
      // FGW config.json: converted objects point at the FGW field they came from.
      const converted = convertFgw(value);
      for (const issue of converted.issues) errors.push({ file, line: locator(doc, issue.path, counter)([]), message: `FGW ${formatPath(issue.path)}: ${issue.message}` });
      for (const o of converted.objects) {
        const at = locator(doc, o.origin, counter);
        objects.push({ value: o.value, file, line: () => at([]) });
      }
    } else {
      objects.push({ value, file, line: locator(doc, [], counter) });
    }
  }
  return { objects, errors };
}

export function loadConfigFile(file: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { objects: [], errors: [{ file, line: undefined, message: `cannot read config: ${(err as Error).message}` }] };
  }
  return parseConfigText(text, file);
}
