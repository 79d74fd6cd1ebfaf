// node dist/loadtest/compare.js <before.json> <after.json>
// Prints, per target and metric, both values and after/before.
import { readFileSync } from 'node:fs';
import { flatten } from './metrics';
import type { LoadResultFile } from './run';

/** The result file, or a one-line reason it cannot be used (a missing file, not JSON, not a result). */
function read(file: string): LoadResultFile | string {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LoadResultFile> | null;
    if (parsed === null || typeof parsed !== 'object' || typeof parsed.runs !== 'object' || parsed.runs === null) return `${file}: not a loadtest result file (no "runs")`;
    return parsed as LoadResultFile;
  } catch (err) {
    return `${file}: ${(err as Error).message}`;
  }
}

function ratio(after: number, before: number): string {
  if (before === 0) return after === 0 ? '=' : 'n/a';
  return `${(after / before).toFixed(3)}×`;
}

function main(): number {
  const [aFile, bFile] = process.argv.slice(2);
  if (aFile === undefined || bFile === undefined) {
    console.error('usage: node dist/loadtest/compare.js <before.json> <after.json>');
    return 2;
  }
  const a = read(aFile);
  const b = read(bFile);
  if (typeof a === 'string' || typeof b === 'string') {
    for (const problem of [a, b]) if (typeof problem === 'string') console.error(`cannot compare: ${problem}`);
    return 2;
  }
  console.log(`before: ${aFile} (${a.scenario}, ${a.startedAt})`);
  console.log(`after:  ${bFile} (${b.scenario}, ${b.startedAt})`);
  if (a.scenario !== b.scenario) console.log(`note: different scenarios (${a.scenario} vs ${b.scenario})`);
  for (const target of Object.keys(a.runs)) {
    const before = a.runs[target];
    const after = b.runs[target];
    if (before === undefined || after === undefined) continue;
    console.log(`\n${target}`);
    console.log(`${'metric'.padEnd(10)} ${'before'.padStart(12)} ${'after'.padStart(12)} ${'after/before'.padStart(13)}  better`);
    const afterValues = new Map(flatten(after).map(([name, value]) => [name, value]));
    for (const [name, value, higherIsBetter] of flatten(before)) {
      const now = afterValues.get(name) ?? 0;
      const better = now === value ? '' : now > value === higherIsBetter ? 'yes' : 'no';
      console.log(`${name.padEnd(10)} ${String(value).padStart(12)} ${String(now).padStart(12)} ${ratio(now, value).padStart(13)}  ${better}`);
    }
  }
  return 0;
}

process.exitCode = main();
