import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerTls } from '../src/config/tls-material';
import { createApp } from '../src/dataplane/listener/tls-app';
import type { UwsApp, UwsModule } from '../src/dataplane/listener/uws-api';

/** A uWS stand-in that records server names, routed domains and the missingServerName handler. */
function fakeUws(): { uws: UwsModule; added: string[]; routed: string[]; missing: () => (hostname: string) => void } {
  const added: string[] = [];
  const routed: string[] = [];
  let onMissing: ((hostname: string) => void) | null = null;
  let current = '';
  const app = {
    any: () => (routed.push(current), app),
    ws: () => app,
    listen: () => app,
    addServerName: (name: string) => (added.push(name), app),
    domain: (name: string) => ((current = name), app),
    missingServerName: (handler: (hostname: string) => void) => ((onMissing = handler), app),
  } as unknown as UwsApp;
  const uws = { App: () => app, SSLApp: () => app, us_listen_socket_close: () => undefined } as unknown as UwsModule;
  return {
    uws,
    added,
    routed,
    missing: () => {
      assert.ok(onMissing !== null, 'no missingServerName handler');
      return onMissing;
    },
  };
}

const pem = (n: string): string => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----\n`;
const tls: ServerTls = {
  certs: [
    { name: 'main', cert: pem('main'), key: pem('main key'), serverNames: ['main.test'] },
    { name: 'a', cert: pem('a'), key: pem('a key'), serverNames: ['a.test', '*.wild.test'] },
  ],
  clientCA: null,
  clientAuth: 'optional',
  id: 'x',
};

describe('uWS TLS app: SNI names in any case', () => {
  it('adds a spelling that matches a certificate once lower-cased, with its routes; never one the default serves', () => {
    const f = fakeUws();
    createApp(f.uws, tls, (a) => a.any('/*', () => undefined));
    assert.deepEqual(f.added, ['a.test', '*.wild.test']);
    const missing = f.missing();
    for (const name of ['A.TEST', 'X.Wild.Test', 'MAIN.TEST', 'Unknown.Test', 'a.b.WILD.test', 'nope.test']) missing(name);
    assert.deepEqual(f.added.slice(2), ['A.TEST', 'X.Wild.Test']);
    assert.deepEqual(f.routed, ['', 'a.test', '*.wild.test', 'A.TEST', 'X.Wild.Test']);
  });

  it('adds at most the given number of spellings', () => {
    const f = fakeUws();
    createApp(f.uws, tls, (a) => a.any('/*', () => undefined), 2);
    const missing = f.missing();
    for (const name of ['A.TEST', 'a.TEST', 'A.test', 'X.WILD.TEST']) missing(name);
    assert.deepEqual(f.added.slice(2), ['A.TEST', 'a.TEST']);
  });
});
