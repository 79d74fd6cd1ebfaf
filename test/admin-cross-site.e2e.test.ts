import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as nodeHttp from 'node:http';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { RequestGuard } from '../src/control/admin/request-guard';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { mockPipeline, routedServer } from './helpers/pipelines';
import { rawRequest } from './helpers/raw';

/** HTTPServer `front` sending everything to Pipeline `mock`, which answers `fine`. */
const BASE = `${routedServer('front', [['/', 'mock']])}---\n${mockPipeline('mock', 'fine')}`;

const pipeline = (name: string): string => `kind: Pipeline
name: ${name}
flow: [{ filter: m }]
filters: [{ name: m, kind: Mock, rules: [{ body: ${name} }] }]
`;

interface Answer {
  status: number;
  body: string;
}

/** A plain node:http request with exactly these headers (no Content-Type unless given). */
function send(admin: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const url = new URL(admin);
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function refusal(a: Answer, status: number, code: string, detail: RegExp): void {
  assert.equal(a.status, status, a.body);
  const body = JSON.parse(a.body) as { code: string; message: string; error: string };
  assert.equal(body.code, code);
  assert.match(body.error, detail);
  assert.match(body.message, detail);
}

/** The admin API is for operators' tools, never for web pages: foreign origins, rebinding hosts and browser body types are refused. */
describe('admin API against cross-site requests and DNS rebinding', () => {
  let gw: Gateway;
  let host: string;
  before(async () => {
    gw = await startGateway(BASE);
    host = new URL(gw.admin).host;
  });
  after(async () => {
    await gw?.stop();
  });

  const objectNames = async (): Promise<string[]> => (JSON.parse((await send(gw.admin, 'GET', '/apis/v2/objects', {})).body) as { name: string }[]).map((o) => o.name);

  it('refuses a browser "simple" POST from a foreign page (text/plain with a foreign Origin): nothing is created', async () => {
    for (const path of ['/apis/v2/objects', '/apis/v2/objects/batch?mode=apply']) {
      const a = await send(gw.admin, 'POST', path, { origin: 'http://evil.example', 'content-type': 'text/plain' }, pipeline('evil'));
      refusal(a, 403, 'NGATE_ERR_FORBIDDEN', /Origin "http:\/\/evil\.example" is not this admin API/);
    }
    // Even with a type the API reads, a foreign Origin is refused, and reads are refused too.
    refusal(await send(gw.admin, 'POST', '/apis/v2/objects', { origin: 'http://evil.example', 'content-type': 'application/yaml' }, pipeline('evil')), 403, 'NGATE_ERR_FORBIDDEN', /cross-origin/);
    refusal(await send(gw.admin, 'GET', '/apis/v2/objects', { origin: 'null' }), 403, 'NGATE_ERR_FORBIDDEN', /cross-origin/);
    refusal(await send(gw.admin, 'DELETE', '/apis/v2/objects/mock', { origin: 'http://evil.example' }), 403, 'NGATE_ERR_FORBIDDEN', /cross-origin/);
    assert.deepEqual((await objectNames()).sort(), ['front', 'mock']);
    assert.match(gw.logs(), /WARN admin request refused .*evil\.example/);
  });

  it('refuses state-changing requests whose body is not JSON or YAML, even without an Origin', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const a = await send(gw.admin, 'POST', '/apis/v2/objects', { 'content-type': type }, pipeline('plain'));
      refusal(a, 415, 'NGATE_ERR_UNSUPPORTED_MEDIA_TYPE', new RegExp(`needs Content-Type: application/json or application/yaml, not "${type.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
    }
    // A body without any Content-Type (a browser Blob without a type sends none).
    const port = Number(new URL(gw.admin).port);
    const body = pipeline('untyped');
    const raw = await rawRequest(port, `PUT /apis/v2/objects/mock HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    assert.match(raw.text, /^HTTP\/1\.1 415 [^]*needs Content-Type: application\/json or application\/yaml with a body/);
    refusal(await send(gw.admin, 'POST', '/apis/v2/reload', { 'content-type': 'text/plain' }), 415, 'NGATE_ERR_UNSUPPORTED_MEDIA_TYPE', /not "text\/plain"/);
    assert.deepEqual((await objectNames()).sort(), ['front', 'mock']);
  });

  it('refuses a Host that is not an IP address or localhost (DNS rebinding), for reads too', async () => {
    for (const h of ['rebind.evil.example', `rebind.evil.example:${new URL(gw.admin).port}`, 'localhost.evil.example', 'bad host']) {
      refusal(await send(gw.admin, 'GET', '/apis/v2/objects', { host: h }), 403, 'NGATE_ERR_FORBIDDEN', /is not an address of this admin API .*DNS rebinding/);
    }
    // A rebinding page sends its own name as Host and as Origin: same-origin for the browser, refused here.
    const port = new URL(gw.admin).port;
    refusal(await send(gw.admin, 'POST', '/apis/v2/objects', { host: `evil.example:${port}`, origin: `http://evil.example:${port}`, 'content-type': 'application/json' }, JSON.stringify({ kind: 'Pipeline', name: 'evil', flow: [] })), 403, 'NGATE_ERR_FORBIDDEN', /DNS rebinding/);
    for (const h of [`localhost:${port}`, `LOCALHOST:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, '127.0.0.1']) {
      assert.equal((await send(gw.admin, 'GET', '/apis/v2/objects', { host: h })).status, 200, h);
    }
  });

  it('still answers its own origin, plain curl from loopback (reads, reload, delete) and the CLI', async () => {
    assert.equal((await send(gw.admin, 'GET', '/server_info', { origin: `http://${host}` })).status, 200);
    const exec = promisify(execFile);
    const list = await exec('curl', ['-s', '-w', '\n%{http_code}', `${gw.admin}/apis/v2/objects`]);
    assert.match(list.stdout, /"name": "front"[^]*\n200$/);
    const json = JSON.stringify({ kind: 'Pipeline', name: 'bycurl', flow: [{ filter: 'm' }], filters: [{ name: 'm', kind: 'Mock', rules: [{ body: 'c' }] }] });
    const created = await exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Content-Type: application/json', '-d', json, `${gw.admin}/apis/v2/objects`]);
    assert.equal(created.stdout, '201');
    const deleted = await exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'DELETE', `${gw.admin}/apis/v2/objects/bycurl`]);
    assert.equal(deleted.stdout, '200');
    const reloaded = await exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', `${gw.admin}/apis/v2/reload`]);
    assert.equal(reloaded.stdout, '200');
    // curl -d without a type says form-urlencoded: refused, as from a browser form.
    const form = await exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-d', json, `${gw.admin}/apis/v2/objects`]);
    assert.equal(form.stdout, '415');

    const file = writeTempConfig(pipeline('bycli'));
    for (const args of [['object', 'create', '-f', file], ['object', 'apply', '-f', file], ['object', 'get', 'bycli'], ['status'], ['reload'], ['object', 'delete', 'bycli']]) {
      const r = await runCli([...args, '--server', gw.admin]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
  });
});

describe('admin API with a token: the Host is not checked (a rebinding page cannot know the token), Origin still is', () => {
  const TOKEN = 'cross-site-token-0123456789';
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(BASE, { args: ['--admin-token', TOKEN] });
  });
  after(async () => {
    await gw?.stop();
  });

  it('answers any Host with the token, refuses a foreign Origin even with it', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await send(gw.admin, 'GET', '/apis/v2/objects', { ...auth, host: 'gateway.internal.example:9901' })).status, 200);
    refusal(await send(gw.admin, 'GET', '/apis/v2/objects', { ...auth, origin: 'http://evil.example' }), 403, 'NGATE_ERR_FORBIDDEN', /cross-origin/);
    refusal(await send(gw.admin, 'POST', '/apis/v2/objects', { ...auth, 'content-type': 'text/plain' }, pipeline('x')), 415, 'NGATE_ERR_UNSUPPORTED_MEDIA_TYPE', /text\/plain/);
  });
});

describe('RequestGuard', () => {
  it('accepts the name the admin is bound to as Host, and only that name', () => {
    const guard = new RequestGuard('admin.gw.example', false);
    assert.equal(guard.check('GET', { host: 'admin.gw.example:9901' }), null);
    assert.equal(guard.check('GET', { host: 'ADMIN.gw.example.' }), null);
    assert.equal(guard.check('GET', { host: 'localhost:9901' }), null);
    assert.equal(guard.check('GET', { host: '10.1.2.3:9901' }), null);
    assert.equal(guard.check('GET', { host: 'other.gw.example:9901' })?.status, 403);
    assert.equal(new RequestGuard('::1', false).check('GET', { host: '[::1]:9901' }), null);
    assert.equal(new RequestGuard('127.0.0.1', false).check('GET', { host: 'admin.gw.example' })?.status, 403);
  });

  it('takes JSON and YAML bodies, with parameters and in any case', () => {
    const guard = new RequestGuard('127.0.0.1', false);
    for (const type of ['application/json', 'Application/YAML; charset=utf-8', 'application/x-yaml', 'text/yaml']) {
      assert.equal(guard.check('POST', { host: '127.0.0.1', 'content-type': type, 'content-length': '3' }), null, type);
    }
    assert.equal(guard.check('POST', { host: '127.0.0.1' }), null, 'a bodyless POST (reload) without a type');
    assert.equal(guard.check('PATCH', { host: '127.0.0.1', 'transfer-encoding': 'chunked' })?.status, 415);
  });
});
