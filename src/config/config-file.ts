/** Load + validate + compile in one call: what `start`, `validate` and reloads share. */
import { compileConfig } from './compile';
import type { CompiledConfig } from './compiled';
import { loadConfigFile } from './load';
import { validateObjects, type ConfigError, type ObjectSpec } from './validate';

export interface ConfigOutcome {
  readonly objects: ObjectSpec[];
  readonly compiled: CompiledConfig | null;
  readonly errors: ConfigError[];
  readonly warnings: ConfigError[];
}

export function loadAndCompile(files: string[], generation: number): ConfigOutcome {
  const errors: ConfigError[] = [];
  const sources = [];
  for (const file of files) {
    const loaded = loadConfigFile(file);
    for (const e of loaded.errors) errors.push({ file: e.file, line: e.line, object: '', path: '', message: e.message });
    sources.push(...loaded.objects);
  }
  const validated = validateObjects(sources);
  errors.push(...validated.errors);
  const compiled = errors.length === 0 ? compileConfig(validated.objects, generation) : null;
  return { objects: validated.objects, compiled, errors, warnings: validated.warnings };
}
