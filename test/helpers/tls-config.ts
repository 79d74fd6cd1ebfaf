/** Config objects and certificate sets the downstream TLS tests share (uWS and node engines alike). */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { issue, makeCa, type Ca, type KeyPair } from './certs';
import { tlsGet } from './tls-client';

/** Config objects as one multi-document YAML text. */
export const docs = (...objects: object[]): string => objects.map((o) => stringify(o)).join('---\n');

/** A Pipeline object proxying everything to `url`, with upstream `tls` settings when given. */
export function pipelineObject(name: string, url: string, tls?: Record<string, unknown>): object {
  return { kind: 'Pipeline', name, filters: [{ name: 'proxy', kind: 'Proxy', mainPool: { servers: [{ url }], ...(tls === undefined ? {} : { tls }) } }] };
}

/** An HTTPS HTTPServer object on port 0 sending every path to Pipeline `p`; `extra`: its TLS fields (and engine). */
export function httpsServerObject(name: string, extra: Record<string, unknown>): object {
  return { kind: 'HTTPServer', name, port: 0, https: true, ...extra, rules: [{ paths: [{ pathPrefix: '/', backend: 'p' }] }] };
}

/** A config directory: files are written next to config.yaml, which names them relatively. */
export function configDir(files: Record<string, string>, prefix = 'ngate-tls-test-'): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text, { mode: 0o600 });
  return { dir, file: path.join(dir, 'config.yaml') };
}

export interface SniCerts {
  readonly ca: Ca;
  /** The default pair: main.test and 127.0.0.1. */
  readonly main: KeyPair;
  /** a.test */
  readonly siteA: KeyPair;
  /** b.test and the wildcard *.wild.test */
  readonly siteB: KeyPair;
}

export function makeSniCerts(): SniCerts {
  const ca = makeCa();
  return {
    ca,
    main: issue(ca, 'main', { dns: ['main.test'], ips: ['127.0.0.1'] }),
    siteA: issue(ca, 'site-a', { dns: ['a.test'] }),
    siteB: issue(ca, 'site-b', { dns: ['b.test', '*.wild.test'] }),
  };
}

/**
 * A config directory holding main and b as files, and the listener's
 * certs/keys fields naming them relatively (a inline).
 */
export function sniConfigDir(c: SniCerts, prefix?: string): { dir: string; file: string; tls: { certs: Record<string, string>; keys: Record<string, string> } } {
  const dir = configDir({ 'main.crt': c.main.cert, 'main.key': c.main.key, 'b.crt': c.siteB.cert, 'b.key': c.siteB.key }, prefix);
  return { ...dir, tls: { certs: { main: 'main.crt', a: c.siteA.cert, b: 'b.crt' }, keys: { main: 'main.key', a: c.siteA.key, b: 'b.key' } } };
}

/** SNI name sent → CN expected of the makeSniCerts set: exact names, a one-label wildcard, the first pair as default. `b` spells the b.test name. */
export function sniCases(b = 'b.test'): [string | undefined, string][] {
  return [
    ['a.test', 'site-a'],
    [b, 'site-b'],
    ['x.wild.test', 'site-b'],
    ['main.test', 'main'],
    ['unknown.test', 'main'],
    ['deep.x.wild.test', 'main'],
    [undefined, 'main'],
  ];
}

/** Asserts the listener speaks TLS 1.2 and 1.3 and refuses TLS 1.1 with its own alert. */
export async function assertTlsVersions(port: number, caCert: string): Promise<void> {
  assert.equal((await tlsGet(port, { ca: caCert, maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
  assert.equal((await tlsGet(port, { ca: caCert })).protocol, 'TLSv1.3');
  await assert.rejects(tlsGet(port, { ca: caCert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }), (err: NodeJS.ErrnoException) => {
    // The server's alert, not a client that could not offer TLS 1.1.
    assert.match(err.message, /alert protocol version/i);
    return true;
  });
}

/** Writes a pair as `<base>.crt` and `<base>.key` into a config directory (a certificate change to pick up). */
export function writePair(dir: string, base: string, pair: KeyPair): void {
  writeFileSync(path.join(dir, `${base}.crt`), pair.cert);
  writeFileSync(path.join(dir, `${base}.key`), pair.key);
}
