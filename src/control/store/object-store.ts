/**
 * The running set of objects on the coordinator: each validated spec plus the
 * raw form the user gave (what GET returns and what is persisted). The data
 * directory wins once it holds running_objects.yaml; until then the --config
 * files seed the set (as Easegress does with its running_objects.yaml).
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { removeQuietly, syncDir, writeAside } from '../../shared/durable-file';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { withAbsolutePaths } from '../../config/absolute-paths';
import { loadConfigFile, type SourcedObject } from '../../config/load';
import type { ConfigError, ObjectSpec } from '../../config/validate';

export const RUNNING_OBJECTS_FILE = 'running_objects.yaml';

export interface StoredObject {
  readonly spec: ObjectSpec;
  readonly raw: Record<string, unknown>;
  /** The file it was read from: relative paths in it (certificates, static roots) resolve against it on every re-apply. */
  readonly file: string | undefined;
}

export interface SourceLoad {
  readonly sources: SourcedObject[];
  /** Unreadable files and YAML syntax errors; validation comes later, on the whole set. */
  readonly errors: ConfigError[];
  /** Where the objects came from: the data dir file or the config file(s). */
  readonly from: string;
}

export function readSources(files: string[]): SourceLoad {
  const errors: ConfigError[] = [];
  const sources: SourcedObject[] = [];
  for (const file of files) {
    const loaded = loadConfigFile(file);
    for (const e of loaded.errors) errors.push({ file: e.file, line: e.line, object: '', path: '', message: e.message });
    sources.push(...loaded.objects);
  }
  return { sources, errors, from: files.join(', ') };
}

/** validateObjects keeps the order of valid objects; names are unique, so match by name. */
export function pairWithRaw(specs: ObjectSpec[], sources: SourcedObject[]): StoredObject[] {
  const byName = new Map<string, SourcedObject>();
  for (const s of sources) {
    const v = s.value as Record<string, unknown> | null;
    if (v !== null && typeof v === 'object' && typeof v.name === 'string' && !byName.has(v.name)) byName.set(v.name, s);
  }
  return specs.map((spec) => {
    const source = byName.get(spec.name);
    const raw = (source?.value as Record<string, unknown> | undefined) ?? {};
    // Stored (and persisted) with absolute paths, so the data dir copy names the same files after a restart.
    return { spec, raw: withAbsolutePaths(raw, source?.file), file: source?.file };
  });
}

/** True for a 0-byte or whitespace-only file; false when it cannot be read (readSources reports that). */
function isBlank(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').trim() === '';
  } catch {
    return false;
  }
}

export class ObjectStore {
  private objects: StoredObject[] = [];

  constructor(private readonly dataDir: string) {}

  get file(): string {
    return path.join(this.dataDir, RUNNING_OBJECTS_FILE);
  }

  /** The data dir file when it exists, else the config files. */
  initialSources(configFiles: string[]): SourceLoad {
    if (!existsSync(this.file)) return readSources(configFiles);
    // prepareSave always writes the header: an empty file was truncated (a full disk, a crash of another writer), not emptied by ngate.
    if (isBlank(this.file)) {
      const message = 'is empty: ngate always writes at least its header; the file is damaged — remove it to start from the --config files, or restore it';
      return { sources: [], errors: [{ file: this.file, line: undefined, object: '', path: '', message }], from: this.file };
    }
    return readSources([this.file]);
  }

  /**
   * The config files edited after the data dir file was last written: at start
   * they are not read (the data dir wins), which an operator who just edited
   * one would not expect without being told.
   */
  configFilesNewer(configFiles: string[]): string[] {
    if (!existsSync(this.file)) return [];
    const saved = statSync(this.file).mtimeMs;
    return configFiles.filter((f) => {
      try {
        return statSync(f).mtimeMs > saved;
      } catch {
        return false;
      }
    });
  }

  list(): readonly StoredObject[] {
    return this.objects;
  }

  get(name: string): StoredObject | undefined {
    return this.objects.find((o) => o.spec.name === name);
  }

  /** Replaces the in-memory set (after the workers committed it). */
  set(objects: StoredObject[]): void {
    this.objects = objects;
  }

  /**
   * Step one of saving `objects`: the whole file written and fsynced beside
   * running_objects.yaml, before anything changes. Throws (nothing written)
   * when the data dir cannot take it; the caller refuses the change then.
   */
  prepareSave(objects: readonly StoredObject[]): PendingSave {
    mkdirSync(this.dataDir, { recursive: true });
    const header = '# Objects ngate runs, written on every applied change. While this file exists it wins over --config.\n';
    const text = header + objects.map((o) => stringify(o.raw)).join('---\n');
    return new PendingSave(writeAside(this.file, text), this.file, this.dataDir);
  }

  /** Why changes cannot be saved in the data dir, or null when it looks writable (probed without writing). */
  unwritableReason(): string | null {
    // The nearest existing ancestor decides: the dir is made at the first change.
    let dir = path.resolve(this.dataDir);
    for (;;) {
      try {
        if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
        accessSync(dir, constants.W_OK);
        return null;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code !== 'ENOENT' || path.dirname(dir) === dir) return e.message;
        dir = path.dirname(dir);
      }
    }
  }
}

/** A saved set waiting beside its file: renamed into place after the swap, or removed when the swap is refused. */
export class PendingSave {
  private done = false;

  constructor(
    readonly tmp: string,
    private readonly file: string,
    private readonly dir: string,
  ) {}

  /** Renames the written file into place; on failure the temp file is removed and the error thrown. */
  commit(): void {
    if (this.done) return;
    this.done = true;
    try {
      renameSync(this.tmp, this.file);
    } catch (err) {
      removeQuietly(this.tmp);
      throw err;
    }
    syncDir(this.dir);
  }

  discard(): void {
    if (this.done) return;
    this.done = true;
    removeQuietly(this.tmp);
  }
}
