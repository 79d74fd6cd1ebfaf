/**
 * Builds a uWS app for a listener: plain `App()`, or `SSLApp` with the first
 * certificate as the default and the others chosen by SNI. uWS keeps one
 * router per server name, so the handler is registered for each name too
 * (a name without routes would have its connections closed).
 */
import type { ServerTls } from '../../config/tls-material';
import { withPemFiles } from './tls-files';
import type { UwsApp, UwsModule } from './uws-api';

/** Registers the listener's routes (HTTP and WebSocket) on an app or on one SNI domain of it. */
type Routes = (app: UwsApp) => UwsApp;

export function createApp(uws: UwsModule, tls: ServerTls | null, routes: Routes): UwsApp {
  if (tls === null) return routes(uws.App());
  return withPemFiles((write) => {
    const ca = tls.clientCA === null ? null : write(tls.clientCA);
    const options = (cert: string, key: string): Record<string, unknown> => {
      const o: Record<string, unknown> = { cert_file_name: write(cert), key_file_name: write(key) };
      // With a CA, uWS verifies a certificate the client sends and refuses an untrusted one.
      if (ca !== null) o.ca_file_name = ca;
      return o;
    };
    const [first, ...rest] = tls.certs;
    if (first === undefined) throw new Error('a TLS listener needs a certificate');
    const app = routes(uws.SSLApp(options(first.cert, first.key)));
    if (app.addServerName === undefined || app.domain === undefined) {
      if (rest.length > 0) throw new Error('this uWebSockets.js build has no SNI (addServerName)');
      return app;
    }
    // The first certificate that names a host wins; the default certificate answers for its own names anyway.
    const claimed = new Set(first.serverNames);
    for (const c of rest) {
      const names = c.serverNames.filter((n) => !claimed.has(n));
      if (names.length === 0) continue;
      const opts = options(c.cert, c.key);
      for (const name of names) {
        claimed.add(name);
        app.addServerName(name, opts);
        routes(app.domain(name));
      }
    }
    return app;
  });
}
