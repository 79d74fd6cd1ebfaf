/**
 * Builds a uWS app for a listener: plain `App()`, or `SSLApp` with the first
 * certificate as the default and the others chosen by SNI. uWS keeps one
 * router per server name, so the handler is registered for each name too
 * (a name without routes would have its connections closed).
 *
 * uWS matches SNI names case-sensitively, while DNS names are not (RFC 4343):
 * a client sending `API.Example.com` would get the default certificate. uWS
 * asks `missingServerName` about a name it does not know before it gives up,
 * so a name that matches a certificate once lower-cased is added then, as
 * sent, with that certificate and the routes.
 */
import type { ServerCert, ServerTls } from '../../config/tls-material';
import { matchServerName } from './sni-match';
import { withPemFiles } from './tls-files';
import type { UwsApp, UwsModule } from './uws-api';

/** Registers the listener's routes (HTTP and WebSocket) on an app or on one SNI domain of it. */
type Routes = (app: UwsApp) => UwsApp;

/**
 * Case spellings added per listener at most: each is one more OpenSSL
 * context, and a client chooses the spelling. Beyond this a new spelling
 * gets the default certificate (as before any was added).
 */
export const MAX_CASE_VARIANTS = 128;

/** uWS options for one certificate, its PEM written to files `write` names (uWS reads certificates only from files). */
function sslOptions(write: (pem: string) => string, cert: ServerCert, clientCA: string | null): Record<string, unknown> {
  const o: Record<string, unknown> = { cert_file_name: write(cert.cert), key_file_name: write(cert.key) };
  // With a CA, uWS verifies a certificate the client sends and refuses an untrusted one.
  if (clientCA !== null) o.ca_file_name = write(clientCA);
  return o;
}

export function createApp(uws: UwsModule, tls: ServerTls | null, routes: Routes, maxCaseVariants = MAX_CASE_VARIANTS): UwsApp {
  if (tls === null) return routes(uws.App());
  const [first, ...rest] = tls.certs;
  if (first === undefined) throw new Error('a TLS listener needs a certificate');
  const app = withPemFiles((write) => routes(uws.SSLApp(sslOptions(write, first, tls.clientCA))));
  if (app.addServerName === undefined || app.domain === undefined) {
    if (rest.length > 0) throw new Error('this uWebSockets.js build has no SNI (addServerName)');
    return app;
  }
  const sni = app as UwsApp & Required<Pick<UwsApp, 'addServerName' | 'domain'>>;
  // Lower-case name → its certificate; the first certificate that names a host wins.
  const byName = new Map<string, ServerCert>();
  for (const n of first.serverNames) byName.set(n, first);
  for (const c of rest) {
    const names = c.serverNames.filter((n) => !byName.has(n));
    if (names.length === 0) continue;
    withPemFiles((write) => {
      const opts = sslOptions(write, c, tls.clientCA);
      for (const name of names) {
        byName.set(name, c);
        sni.addServerName(name, opts);
        routes(sni.domain(name));
      }
    });
  }
  if (app.missingServerName === undefined) return app;
  let added = 0;
  app.missingServerName((hostname) => {
    // A lower-case name uWS does not know matches nothing here either (uWS matched exact and wildcard names already).
    if (added >= maxCaseVariants || hostname === hostname.toLowerCase()) return;
    const cert = matchServerName(byName, hostname);
    // The default certificate answers unknown names anyway, with the default routes.
    if (cert === undefined || cert === first) return;
    added++;
    // Inside uWS's handshake callback: a failure (temp files) must not escape into the worker; the default certificate answers.
    try {
      withPemFiles((write) => sni.addServerName(hostname, sslOptions(write, cert, tls.clientCA)));
      routes(sni.domain(hostname));
    } catch {
      return;
    }
  });
  return app;
}
