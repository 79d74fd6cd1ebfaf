/**
 * Relative file paths in an object (certificates, keys, CAs, static roots)
 * mean "next to the config file". The object store keeps objects in its own
 * file (running_objects.yaml, in the data directory), so it stores them with
 * those paths made absolute: read back after a restart, they name the same
 * files. The rule is validation's own (tls-material.ts readPem, validate.ts
 * resolveStaticRoot): relative to the source file's directory, or to the
 * working directory when there is no file. Objects sent to the admin API
 * come with the directory of the file they were read from (withPathsUnder).
 */
import { dirname, isAbsolute, resolve } from 'node:path';

type Raw = Record<string, unknown>;

function isMap(v: unknown): v is Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `dir` undefined: the working directory. */
function absolute(value: string, dir: string | undefined): string {
  return isAbsolute(value) || dir === undefined ? resolve(value) : resolve(dir, value);
}

/** A PEM-or-path value made absolute when it is a path. */
function pemOrPath(value: unknown, dir: string | undefined): unknown {
  if (typeof value !== 'string' || value.trimStart().startsWith('-----BEGIN')) return value;
  return absolute(value, dir);
}

function pathMap(value: unknown, dir: string | undefined): unknown {
  if (!isMap(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pemOrPath(v, dir)]));
}

function server(raw: Raw, dir: string | undefined): Raw {
  const out: Raw = { ...raw };
  if (raw.certs !== undefined) out.certs = pathMap(raw.certs, dir);
  if (raw.keys !== undefined) out.keys = pathMap(raw.keys, dir);
  if (raw.clientCA !== undefined) out.clientCA = pemOrPath(raw.clientCA, dir);
  if (Array.isArray(raw.rules)) {
    out.rules = raw.rules.map((rule: unknown) => {
      if (!isMap(rule) || !Array.isArray(rule.paths)) return rule;
      return {
        ...rule,
        paths: rule.paths.map((p: unknown) => {
          if (!isMap(p) || !isMap(p.static) || typeof p.static.root !== 'string') return p;
          return { ...p, static: { ...p.static, root: absolute(p.static.root, dir) } };
        }),
      };
    });
  }
  return out;
}

function pool(value: unknown, dir: string | undefined): unknown {
  if (!isMap(value) || !isMap(value.tls)) return value;
  const tls: Raw = { ...value.tls };
  for (const field of ['ca', 'cert', 'key']) if (tls[field] !== undefined) tls[field] = pemOrPath(tls[field], dir);
  return { ...value, tls };
}

function pipeline(raw: Raw, dir: string | undefined): Raw {
  if (!Array.isArray(raw.filters)) return raw;
  const filters = raw.filters.map((f: unknown) => {
    if (!isMap(f) || f.kind !== 'Proxy') return f;
    const out: Raw = { ...f };
    if (f.mainPool !== undefined) out.mainPool = pool(f.mainPool, dir);
    if (f.mirrorPool !== undefined) out.mirrorPool = pool(f.mirrorPool, dir);
    // candidatePools, and the Easegress `pools` list.
    for (const key of ['candidatePools', 'pools']) {
      const list = f[key];
      if (Array.isArray(list)) out[key] = list.map((p: unknown) => pool(p, dir));
    }
    return out;
  });
  return { ...raw, filters };
}

/** A copy of an object as the user wrote it, its relative file paths made absolute against `file`. */
export function withAbsolutePaths(raw: Raw, file: string | undefined): Raw {
  return withPathsUnder(raw, file === undefined ? undefined : dirname(file));
}

/** A copy of an object, its relative file paths made absolute against the directory `dir`. */
export function withPathsUnder(raw: Raw, dir: string | undefined): Raw {
  if (raw.kind === 'HTTPServer') return server(raw, dir);
  if (raw.kind === 'Pipeline' || raw.kind === 'HTTPPipeline') return pipeline(raw, dir);
  return raw;
}
