import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { issue, makeCa } from './helpers/certs';
import { runCli, startGateway, type Gateway } from './helpers/gateway';
import { routedServer } from './helpers/pipelines';
import { http as get } from './helpers/http';

/** A server answering every request with one fixed answer. */
function fixedServer(status: number, headers: Record<string, string>, body: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status, headers).end(body));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const portOf = (s: http.Server): number => (s.address() as AddressInfo).port;

const MOCK = `${routedServer('web', [['/', 'answer']])}---
kind: Pipeline
name: answer
filters:
  - name: m
    kind: Mock
    rules:
      - pathPrefix: /
        body: "hello"
`;

describe('CLI against something that is not the ngate admin API', () => {
  let gw: Gateway;
  const servers: http.Server[] = [];
  let objFile: string;

  before(async () => {
    gw = await startGateway(MOCK);
    servers.push(await fixedServer(200, { 'content-type': 'text/plain' }, 'hello'));
    // JSON, but no admin header (any JSON API).
    servers.push(await fixedServer(200, { 'content-type': 'application/json' }, '{"objects":[],"generation":1}'));
    // The header, but not the shape each command needs (another version, a broken proxy).
    servers.push(await fixedServer(200, { 'content-type': 'application/json', 'x-ngate-admin': '1' }, '"x"'));
    objFile = path.join(mkdtempSync(path.join(tmpdir(), 'ngate-notadmin-')), 'x.yaml');
    writeFileSync(objFile, 'kind: Pipeline\nname: p\nfilters: []\n');
  });
  after(async () => {
    for (const s of servers) await new Promise((resolve) => s.close(resolve));
    assert.equal(await gw.stop(), 0);
  });

  const commands = (): string[][] => [
    ['object', 'create', '-f', objFile],
    ['object', 'apply', '-f', objFile],
    ['object', 'delete', 'p'],
    ['object', 'delete', 'Pipeline', 'p'],
    ['object', 'get', 'p'],
    ['object', 'list'],
    ['object', 'list', '-o', 'table'],
    ['status'],
    ['reload'],
  ];

  it('exits 2 with one line naming the server and the answer, for every command (traffic port, text, JSON)', async () => {
    const [text, plainJson, wrongShape] = servers.map((s) => `127.0.0.1:${portOf(s)}`) as [string, string, string];
    // Every command against a text server and against one with the header but another shape; a few against the rest.
    const runs: [string[], string][] = [
      ...commands().flatMap((args): [string[], string][] => [[args, text], [args, wrongShape]]),
      ...[['object', 'list'], ['object', 'create', '-f', objFile]].flatMap((args): [string[], string][] => [[args, plainJson], [args, `127.0.0.1:${gw.ports.get('web') ?? 0}`]]),
    ];
    await Promise.all(
      runs.map(async ([args, target]) => {
        const r = await runCli([...args, '--server', target]);
        const what = `${args.join(' ')} → ${target}`;
        assert.equal(r.code, 2, `${what}: ${r.stdout}${r.stderr}`);
        assert.equal(r.stdout, '', what);
        assert.match(r.stderr, new RegExp(`^ngate: ${target.replace(/\./g, '\\.')} is not an ngate admin API \\(got \\d{3} [^)]+ from (GET|POST|DELETE) /[^ ?]*\\)\\n$`), what);
      }),
    );
    const plain = await runCli(['object', 'list', '--server', text]);
    assert.equal(plain.stderr, `ngate: ${text} is not an ngate admin API (got 200 text/plain from GET /apis/v2/objects)\n`);
  });

  it('the admin API marks every answer, a refusal and a 404 too', async () => {
    for (const p of ['/apis/v2/objects', '/nowhere', '/ready']) {
      const r = await get(`${gw.admin}${p}`);
      assert.equal(r.headers['x-ngate-admin'], '1', p);
    }
  });
});

describe('object files: relative paths, numbering, stdin, the gateway log', () => {
  let gw: Gateway;
  let site: string;

  before(async () => {
    gw = await startGateway(MOCK);
    // A site next to an object file, in a directory that is neither the gateway's nor the CLI's working directory.
    site = mkdtempSync(path.join(tmpdir(), 'ngate-relroot-'));
    mkdirSync(path.join(site, 'www'));
    writeFileSync(path.join(site, 'www', 'index.html'), 'from the file directory\n');
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
  });

  const staticServer = (name: string): string => `kind: HTTPServer\nname: ${name}\nport: 0\naddress: 127.0.0.1\nrules:\n  - paths:\n      - pathPrefix: /\n        static:\n          root: www\n`;

  async function listenPort(name: string): Promise<number> {
    const status = JSON.parse((await get(`${gw.admin}/apis/v2/status/objects`)).body) as { objects: { name: string; listen?: string }[] };
    return Number(status.objects.find((o) => o.name === name)?.listen?.split(':').pop());
  }

  it('object create -f resolves a relative static root against the file directory, as validate does', { timeout: 90_000 }, async () => {
    const file = path.join(site, 'site.yaml');
    writeFileSync(file, staticServer('site'));
    assert.equal((await runCli(['validate', file])).code, 0);
    const from = gw.logs().length;
    const r = await runCli(['object', 'create', '-f', file, '--server', gw.admin]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^created HTTPServer\/site \(generation \d+\)\n$/);
    const page = await get(`http://127.0.0.1:${await listenPort('site')}/`);
    assert.equal(page.body, 'from the file directory\n');
    // Logged as a SIGHUP reload is: what, generation, objects.
    await gw.waitForLog(/INFO create applied generation=\d+ objects=HTTPServer\/site via=admin/, from);
  });

  it('stdin (no -f, or -f -) resolves against the CLI working directory, for create, update and apply', { timeout: 90_000 }, async () => {
    const cases: [string[], string][] = [
      [['object', 'apply'], 'stdin-a'],
      [['object', 'create', '-f', '-'], 'stdin-b'],
      [['object', 'apply', '-f', '-'], 'stdin-a'],
      [['object', 'update', '-f', '-'], 'stdin-b'],
    ];
    for (const [args, name] of cases) {
      const r = await runCli([...args, '--server', gw.admin], staticServer(name), { cwd: site });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^(created|updated) HTTPServer/${name} `));
    }
    assert.equal((await get(`http://127.0.0.1:${await listenPort('stdin-a')}/`)).body, 'from the file directory\n');
    // A relative baseDir means nothing to the gateway: refused.
    const bad = await get(`${gw.admin}/apis/v2/objects/batch?mode=apply&baseDir=www`, { method: 'POST', body: staticServer('x') });
    assert.equal(bad.status, 400);
  });

  it('numbers an object without a kind by its place in the file and says the kind is missing; the refusal is logged', { timeout: 90_000 }, async () => {
    const file = path.join(site, 'nokind.yaml');
    writeFileSync(file, '# one object\nname: lonely\nfilters: []\n');
    const from = gw.logs().length;
    const r = await runCli(['object', 'create', '-f', file, '--server', gw.admin]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^${file.replace(/[.\\/]/g, '\\$&')}:2: object #1 \\(in the request\\) kind: missing kind \\(known: `, 'm'));
    assert.doesNotMatch(r.stderr, /undefined/);
    const logs = await gw.waitForLog(/WARN create refused; the running config stays status=400/, from);
    assert.match(logs.slice(from), /WARN request body:2: object #1 \(in the request\) kind: missing kind/);
  });

  it('a relative certificate file beside the object file, and an inline key printed redacted, applied back', { timeout: 90_000 }, async () => {
    const pair = issue(makeCa(), 'localhost', { dns: ['localhost'] });
    writeFileSync(path.join(site, 'tls.crt'), pair.cert);
    const file = path.join(site, 'tls.yaml');
    writeFileSync(file, stringify({ kind: 'HTTPServer', name: 'secure', port: 0, address: '127.0.0.1', https: true, certs: { main: 'tls.crt' }, keys: { main: pair.key }, rules: [{ paths: [{ pathPrefix: '/', backend: 'answer' }] }] }));
    const created = await runCli(['object', 'create', '-f', file, '--server', gw.admin]);
    assert.equal(created.code, 0, created.stderr);
    // What get prints (the key as a placeholder) goes back unchanged: the running key is kept, not read as a file name.
    const printed = await runCli(['object', 'get', 'secure', '--server', gw.admin]);
    assert.match(printed.stdout, /\[redacted private key\]/);
    assert.match(printed.stdout, new RegExp(`main: ${path.join(site, 'tls.crt').replace(/[.\\/]/g, '\\$&')}`));
    const again = path.join(mkdtempSync(path.join(tmpdir(), 'ngate-elsewhere-')), 'secure.yaml');
    writeFileSync(again, printed.stdout);
    const applied = await runCli(['object', 'apply', '-f', again, '--server', gw.admin]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /^updated HTTPServer\/secure /);
  });

  it('delete prints Kind/name with or without a kind; reload and delete are logged', { timeout: 90_000 }, async () => {
    const from = gw.logs().length;
    const plain = await runCli(['object', 'delete', 'stdin-b', '--server', gw.admin]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^deleted HTTPServer\/stdin-b \(generation \d+\)\n$/);
    const kinded = await runCli(['object', 'delete', 'HTTPServer', 'stdin-a', '--server', gw.admin]);
    assert.match(kinded.stdout, /^deleted HTTPServer\/stdin-a \(generation \d+\)\n$/);
    await gw.waitForLog(/INFO delete applied generation=\d+ objects=HTTPServer\/stdin-b via=admin/, from);
    const reload = await runCli(['reload', '--server', gw.admin]);
    assert.equal(reload.code, 0, reload.stderr);
    const gen = /generation (\d+)/.exec(reload.stdout)?.[1];
    await gw.waitForLog(new RegExp(`INFO reload applied generation=${gen} objects=HTTPServer/web,Pipeline/answer via=admin`), from);
  });
});
