/**
 * Relative file paths in an object (certificates, keys, CAs, static roots)
 * mean "next to the config file". The object store keeps objects in its own
 * file (running_objects.yaml, in the data directory), so it stores them with
 * those paths made absolute: read back after a restart, they name the same
 * files. The rule is validation's own (tls-material.ts readPem, validate.ts
 * resolveStaticRoot): relative to the source file's directory, or to the
 * working directory when there is no file.
 */
import { dirname, isAbsolute, resolve } from 'node:path';

type Raw = Record<string, unknown>;

function isMap(v: unknown): v is Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function absolute(value: string, file: string | undefined): string {
  return isAbsolute(value) || file === undefined ? resolve(value) : resolve(dirname(file), value);
}

/** A PEM-or-path value made absolute when it is a path. */
function pemOrPath(value: unknown, file: string | undefined): unknown {
  if (typeof value !== 'string' || value.trimStart().startsWith('-----BEGIN')) return value;
  return absolute(value, file);
}

function pathMap(value: unknown, file: string | undefined): unknown {
  if (!isMap(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pemOrPath(v, file)]));
}

function server(raw: Raw, file: string | undefined): Raw {
  const out: Raw = { ...raw };
  if (raw.certs !== undefined) out.certs = pathMap(raw.certs, file);
  if (raw.keys !== undefined) out.keys = pathMap(raw.keys, file);
  if (raw.clientCA !== undefined) out.clientCA = pemOrPath(raw.clientCA, file);
  if (Array.isArray(raw.rules)) {
    out.rules = raw.rules.map((rule: unknown) => {
      if (!isMap(rule) || !Array.isArray(rule.paths)) return rule;
      return {
        ...rule,
        paths: rule.paths.map((p: unknown) => {
          if (!isMap(p) || !isMap(p.static) || typeof p.static.root !== 'string') return p;
          return { ...p, static: { ...p.static, root: absolute(p.static.root, file) } };
        }),
      };
    });
  }
  return out;
}

function pool(value: unknown, file: string | undefined): unknown {
  if (!isMap(value) || !isMap(value.tls)) return value;
  const tls: Raw = { ...value.tls };
  for (const field of ['ca', 'cert', 'key']) if (tls[field] !== undefined) tls[field] = pemOrPath(tls[field], file);
  return { ...value, tls };
}

function pipeline(raw: Raw, file: string | undefined): Raw {
  if (!Array.isArray(raw.filters)) return raw;
  const filters = raw.filters.map((f: unknown) => {
    if (!isMap(f) || f.kind !== 'Proxy') return f;
    const out: Raw = { ...f };
    if (f.mainPool !== undefined) out.mainPool = pool(f.mainPool, file);
    if (f.mirrorPool !== undefined) out.mirrorPool = pool(f.mirrorPool, file);
    // candidatePools, and the Easegress `pools` list.
    for (const key of ['candidatePools', 'pools']) {
      const list = f[key];
      if (Array.isArray(list)) out[key] = list.map((p: unknown) => pool(p, file));
    }
    return out;
  });
  return { ...raw, filters };
}

/** A copy of an object as the user wrote it, its relative file paths made absolute against `file`. */
export function withAbsolutePaths(raw: Raw, file: string | undefined): Raw {
  if (raw.kind === 'HTTPServer') return server(raw, file);
  if (raw.kind === 'Pipeline') return pipeline(raw, file);
  return raw;
}
