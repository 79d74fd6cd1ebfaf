import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

function config(backend: Backend): string {
  const server = (name: string, xff: boolean): string => `kind: HTTPServer
name: ${name}
port: 0
address: 127.0.0.1
xForwardedFor: ${xff}
rules:
  - paths:
      - pathPrefix: /adapted
        backend: adapted
      - pathPrefix: /header-set
        backend: header-set
      - pathPrefix: /
        backend: plain
`;
  const proxy = `  - name: proxy
    kind: Proxy
    mainPool:
      servers:
        - url: ${backend.url}
`;
  return [
    server('edge', true),
    server('inner', false),
    `kind: Pipeline\nname: adapted\nfilters:\n  - name: adaptor\n    kind: RequestAdaptor\n    host: backend.internal\n${proxy}`,
    `kind: Pipeline\nname: header-set\nfilters:\n  - name: adaptor\n    kind: RequestAdaptor\n    header:\n      set:\n        Host: set.internal\n${proxy}`,
    `kind: Pipeline\nname: plain\nfilters:\n${proxy}`,
  ].join('---\n');
}

describe('X-Forwarded-Host and -Proto', () => {
  let backend: Backend;
  let gw: Gateway;

  before(async () => {
    backend = await startBackend(1);
    gw = await startGateway(config(backend));
  });

  after(async () => {
    await gw?.stop();
    await backend?.close();
  });

  async function seen(server: string, path: string, headers: Record<string, string>): Promise<Backend['seen'][number]['headers']> {
    const r = await http(gw.url(server, path), { headers });
    assert.equal(r.status, 200, r.body);
    const last = backend.seen.at(-1);
    assert.equal(last?.url, path);
    return last.headers;
  }

  it('carries the Host the client sent, not the one a RequestAdaptor rewrote', async () => {
    const h = await seen('edge', '/adapted', { host: 'client.example' });
    assert.equal(h.host, 'backend.internal');
    assert.equal(h['x-forwarded-host'], 'client.example');
    assert.equal(h['x-forwarded-proto'], 'http');
    const set = await seen('edge', '/header-set', { host: 'client.example' });
    assert.equal(set.host, 'set.internal');
    assert.equal(set['x-forwarded-host'], 'client.example');
  });

  it('replaces X-Forwarded-Host/-Proto sent by the client with its own values, keeping the X-Forwarded-For chain', async () => {
    const h = await seen('edge', '/plain', { host: 'client.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '10.0.0.1' });
    assert.equal(h['x-forwarded-host'], 'client.example');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    const adapted = await seen('edge', '/adapted', { host: 'client.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' });
    assert.equal(adapted['x-forwarded-host'], 'client.example');
    assert.equal(adapted['x-forwarded-proto'], 'http');
  });

  it('with xForwardedFor: false passes the three headers through as sent and adds none', async () => {
    const h = await seen('inner', '/plain', { host: 'client.example', 'x-forwarded-host': 'front.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '10.0.0.1' });
    assert.equal(h['x-forwarded-host'], 'front.example');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-forwarded-for'], '10.0.0.1');
    const bare = await seen('inner', '/plain', { host: 'client.example' });
    assert.equal(bare['x-forwarded-host'], undefined);
    assert.equal(bare['x-forwarded-proto'], undefined);
  });
});
