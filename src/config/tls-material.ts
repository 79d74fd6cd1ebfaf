/**
 * TLS material for listeners and upstream pools, loaded and checked once at
 * validation: a value is inline PEM when it starts with `-----BEGIN`, else a
 * file path relative to the config file. What the workers get is PEM text
 * that already parsed and matched, so a bad certificate never reaches them.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Path } from './schema-kit';

export type ClientAuth = 'require' | 'optional';

export interface ServerCert {
  /** The key name shared by `certs` and `keys`. */
  readonly name: string;
  readonly cert: string;
  readonly key: string;
  /** Exact and wildcard (`*.example.com`) names from subjectAltName, else the CN. */
  readonly serverNames: string[];
}

/** A listener's TLS: the first certificate is the default; the others are chosen by SNI. */
export interface ServerTls {
  readonly certs: ServerCert[];
  readonly clientCA: string | null;
  readonly clientAuth: ClientAuth;
  /** Digest of all the material: a listener whose id changes is rebuilt. */
  readonly id: string;
}

/** An upstream pool's TLS, PEM text resolved. */
export interface UpstreamTls {
  readonly insecureSkipVerify: boolean;
  readonly ca: string | null;
  readonly cert: string | null;
  readonly key: string | null;
  readonly serverName: string | null;
}

export type Report = (path: Path, message: string) => void;

interface Pem {
  readonly text: string;
  /** "inline PEM" or "file /abs/path", for error messages. */
  readonly origin: string;
}

/** Reads one value as PEM text, or reports why it cannot. */
export function readPem(value: string, configFile: string | undefined, path: Path, report: Report): Pem | undefined {
  if (value.trimStart().startsWith('-----BEGIN')) return { text: value, origin: 'inline PEM' };
  const file = isAbsolute(value) || configFile === undefined ? resolve(value) : resolve(dirname(configFile), value);
  try {
    return { text: readFileSync(file, 'utf8'), origin: `file ${file}` };
  } catch (err) {
    report(path, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return undefined;
  }
}

function parseCert(pem: Pem, path: Path, report: Report): X509Certificate | undefined {
  try {
    return new X509Certificate(pem.text);
  } catch (err) {
    report(path, `${pem.origin} is not a PEM certificate: ${(err as Error).message}`);
    return undefined;
  }
}

/** A PKCS#8 `ENCRYPTED PRIVATE KEY`, or a traditional PEM key with `Proc-Type: 4,ENCRYPTED`. */
const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type:\s*4,ENCRYPTED/m;

function parseKey(pem: Pem, path: Path, report: Report): KeyObject | undefined {
  // OpenSSL's own error for it is "interrupted or cancelled" (no passphrase to ask for).
  if (ENCRYPTED_KEY.test(pem.text)) {
    report(path, `${pem.origin} is an encrypted private key: ngate needs it without a passphrase (openssl pkey -in <key> -out <plain key>)`);
    return undefined;
  }
  try {
    return createPrivateKey(pem.text);
  } catch (err) {
    report(path, `${pem.origin} is not a PEM private key: ${(err as Error).message}`);
    return undefined;
  }
}

/** Every certificate of a bundle must parse (X509Certificate reads only the first). */
function checkBundle(pem: Pem, path: Path, report: Report): boolean {
  const blocks = pem.text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    report(path, `${pem.origin} holds no PEM certificate`);
    return false;
  }
  return blocks.every((b) => parseCert({ text: b, origin: pem.origin }, path, report) !== undefined);
}

/** DNS names a certificate serves, from subjectAltName, or its CN when it has none. */
export function serverNamesOf(cert: X509Certificate): string[] {
  const alt = cert.subjectAltName;
  if (alt !== undefined) {
    const names = alt
      .split(', ')
      .filter((e) => e.startsWith('DNS:'))
      .map((e) => e.slice(4).toLowerCase());
    if (names.length > 0) return names;
  }
  const cn = /^CN=(.+)$/m.exec(cert.subject)?.[1];
  return cn === undefined ? [] : [cn.toLowerCase()];
}

export interface ServerTlsSpec {
  readonly certs?: Record<string, string>;
  readonly keys?: Record<string, string>;
  readonly clientCA?: string;
  readonly clientAuth: ClientAuth;
}

/** Loads an HTTPServer's certs/keys/clientCA; reports every problem with the key or file it comes from. */
export function loadServerTls(spec: ServerTlsSpec, configFile: string | undefined, report: Report): ServerTls | undefined {
  const certs = spec.certs ?? {};
  const keys = spec.keys ?? {};
  let ok = true;
  if (Object.keys(certs).length === 0) {
    report(['certs'], 'https: true needs at least one certificate in certs (and its key under the same name in keys)');
    return undefined;
  }
  for (const name of Object.keys(keys)) {
    if (!(name in certs)) {
      report(['keys', name], `no certificate named "${name}" in certs`);
      ok = false;
    }
  }
  const loaded: ServerCert[] = [];
  for (const [name, certValue] of Object.entries(certs)) {
    const keyValue = keys[name];
    if (keyValue === undefined) {
      report(['certs', name], `no key named "${name}" in keys`);
      ok = false;
      continue;
    }
    const certPem = readPem(certValue, configFile, ['certs', name], report);
    const keyPem = readPem(keyValue, configFile, ['keys', name], report);
    if (certPem === undefined || keyPem === undefined) {
      ok = false;
      continue;
    }
    const cert = checkBundle(certPem, ['certs', name], report) ? parseCert(certPem, ['certs', name], report) : undefined;
    const key = parseKey(keyPem, ['keys', name], report);
    if (cert === undefined || key === undefined) {
      ok = false;
      continue;
    }
    if (!cert.checkPrivateKey(key)) {
      report(['keys', name], `the key (${keyPem.origin}) does not match the certificate certs.${name} (${certPem.origin})`);
      ok = false;
      continue;
    }
    loaded.push({ name, cert: certPem.text, key: keyPem.text, serverNames: serverNamesOf(cert) });
  }
  let clientCA: string | null = null;
  if (spec.clientCA !== undefined) {
    const pem = readPem(spec.clientCA, configFile, ['clientCA'], report);
    if (pem === undefined || !checkBundle(pem, ['clientCA'], report)) ok = false;
    else clientCA = pem.text;
  }
  if (!ok) return undefined;
  const digest = createHash('sha256');
  for (const c of loaded) digest.update(`${c.name}\0${c.cert}\0${c.key}\0`);
  digest.update(`${clientCA ?? ''}\0${spec.clientAuth}`);
  return { certs: loaded, clientCA, clientAuth: spec.clientAuth, id: digest.digest('hex').slice(0, 16) };
}

export interface UpstreamTlsSpec {
  readonly insecureSkipVerify: boolean;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly serverName?: string;
}

/** Loads a pool's `tls` (paths relative to `at`, the pool's field path). */
export function loadUpstreamTls(spec: UpstreamTlsSpec, configFile: string | undefined, at: Path, report: Report): UpstreamTls | undefined {
  let ok = true;
  const pem = (field: 'ca' | 'cert' | 'key'): Pem | null => {
    const value = spec[field];
    if (value === undefined) return null;
    const p = readPem(value, configFile, [...at, field], report);
    if (p === undefined) ok = false;
    return p ?? null;
  };
  const ca = pem('ca');
  const cert = pem('cert');
  const key = pem('key');
  if ((cert === null) !== (key === null)) {
    report([...at, cert === null ? 'cert' : 'key'], 'a client certificate needs both cert and key');
    ok = false;
  }
  if (ca !== null && !checkBundle(ca, [...at, 'ca'], report)) ok = false;
  if (cert !== null && key !== null) {
    const x = checkBundle(cert, [...at, 'cert'], report) ? parseCert(cert, [...at, 'cert'], report) : undefined;
    const k = parseKey(key, [...at, 'key'], report);
    if (x === undefined || k === undefined) ok = false;
    else if (!x.checkPrivateKey(k)) {
      report([...at, 'key'], `the key (${key.origin}) does not match the certificate (${cert.origin})`);
      ok = false;
    }
  }
  if (!ok) return undefined;
  return {
    insecureSkipVerify: spec.insecureSkipVerify,
    ca: ca?.text ?? null,
    cert: cert?.text ?? null,
    key: key?.text ?? null,
    serverName: spec.serverName ?? null,
  };
}

