/**
 * Downstream TLS for the node engine: one SecureContext per certificate,
 * chosen by SNI (exact name, then a one-label wildcard, then the first
 * certificate as default), TLS 1.2+ only, and client-certificate checks.
 * The contexts live in a `NodeTls` the server's SNICallback reads, so a new
 * certificate set is one assignment: new handshakes use it, open
 * connections keep the context they negotiated.
 */
import { createSecureContext, type SecureContext, type TlsOptions, type TLSSocket } from 'node:tls';
import type { ServerTls } from '../../config/tls-material';
import { matchServerName } from './sni-match';

const MIN_VERSION = 'TLSv1.2';

/** The contexts of one certificate set. */
export interface SniContexts {
  readonly fallback: SecureContext;
  /** Exact names and `*.suffix` wildcards (stored with the `*.`), lower case. */
  readonly byName: Map<string, SecureContext>;
}

/** Builds the contexts; throws when OpenSSL refuses the material (the swap is then refused). */
export function buildSniContexts(tls: ServerTls): SniContexts {
  const [first, ...rest] = tls.certs;
  if (first === undefined) throw new Error('a TLS listener needs a certificate');
  const ca = tls.clientCA ?? undefined;
  // Every context carries the client CA: after an SNI switch OpenSSL verifies against the chosen one.
  const make = (cert: string, key: string): SecureContext => createSecureContext({ cert, key, ca, minVersion: MIN_VERSION });
  const fallback = make(first.cert, first.key);
  const byName = new Map<string, SecureContext>();
  for (const name of first.serverNames) byName.set(name, fallback);
  // The first certificate that names a host wins (as on the uWS engine).
  for (const c of rest) {
    const names = c.serverNames.filter((n) => !byName.has(n));
    if (names.length === 0) continue;
    const ctx = make(c.cert, c.key);
    for (const n of names) byName.set(n, ctx);
  }
  return { fallback, byName };
}

/** The context for an SNI name: exact, then `*.` + the name without its first label, then the default. */
export function pickContext(contexts: SniContexts, servername: string): SecureContext {
  return matchServerName(contexts.byName, servername) ?? contexts.fallback;
}

/** Server-level options of a certificate set (default certificate, versions, client checks). */
function contextOptions(material: ServerTls): TlsOptions {
  const first = material.certs[0];
  const verify = material.clientCA !== null;
  return {
    // The default certificate also answers clients that send no SNI (the callback is not called then).
    cert: first?.cert,
    key: first?.key,
    ca: material.clientCA ?? undefined,
    minVersion: MIN_VERSION,
    requestCert: verify,
    // require: OpenSSL refuses a client without a certificate, node one whose certificate does not verify.
    rejectUnauthorized: verify && material.clientAuth === 'require',
  };
}

/** A listener's live TLS state: server options built once, contexts replaced on a certificate change. */
export class NodeTls {
  private contexts: SniContexts;
  private material: ServerTls;

  constructor(material: ServerTls) {
    this.material = material;
    this.contexts = buildSniContexts(material);
  }

  /** Options for `http2.createSecureServer` (with allowHTTP1: ALPN `h2` and `http/1.1`). */
  serverOptions(): TlsOptions {
    return { ...contextOptions(this.material), SNICallback: (servername, cb) => cb(null, pickContext(this.contexts, servername)) };
  }

  /**
   * clientAuth optional: a client that sends no certificate is served, one
   * whose certificate does not chain to clientCA is cut before any request
   * is read (node would otherwise accept it).
   */
  readonly checkOptionalClient = (socket: TLSSocket): void => {
    const m = this.material;
    if (m.clientCA === null || m.clientAuth !== 'optional' || socket.authorized) return;
    const peer = socket.getPeerCertificate();
    if (peer !== null && Object.keys(peer).length > 0) socket.destroy();
  };

  /**
   * Builds new material's contexts now (throws when OpenSSL refuses it) and
   * returns the step that switches new handshakes to it: the SNI contexts
   * and, through `server.setSecureContext`, the default context and the
   * client-certificate settings. Open connections keep what they negotiated.
   */
  prepare(material: ServerTls, server: { setSecureContext(options: TlsOptions): void }): (() => void) | null {
    // The same material (any other object changed): nothing to switch.
    if (material.id === this.material.id) return null;
    const next = buildSniContexts(material);
    return () => {
      this.contexts = next;
      this.material = material;
      server.setSecureContext(contextOptions(material));
    };
  }
}
