import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { mockPipeline, routedServer } from './helpers/pipelines';
import { http } from './helpers/http';

/** HTTPServer `front` sending everything to Pipeline `mock`, which answers `fine`. */
const BASE = `${routedServer('front', [['/', 'mock']])}---\n${mockPipeline('mock', 'fine')}`;

/** One anchor used on 150 routes: ordinary reuse, not an attack. */
const MANY_ALIASES = `kind: HTTPServer
name: many
port: 0
address: 127.0.0.1
rules:
  - paths:
      - { path: /r0, backend: &b mock }
${Array.from({ length: 150 }, (_, i) => `      - { path: /r${i + 1}, backend: *b }`).join('\n')}
`;

/** "Billion laughs": 10^9 nodes from a few lines. */
const LAUGHS = `kind: Pipeline
name: laugh
flow: []
a0: &a0 [x, x, x, x, x, x, x, x, x, x]
${Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array.from({ length: 10 }, () => `*a${i}`).join(', ')}]`).join('\n')}
filters: *a8
`;
const ALIAS_ERROR = /:1: YAML: the document expands to more than 1000000 nodes through its aliases \(refused as a resource exhaustion guard\)/;

const SECRETS = ['notahash-MYPASSWORD', 'short-KEYSECRET'];
const BAD_SECRETS = `kind: Pipeline
name: auth
flow: [{ filter: auth }]
filters:
  - name: auth
    kind: Validator
    basicAuth: { users: { alice: ${SECRETS[0]} } }
    apiKey: { keys: [${SECRETS[1]}] }
`;

const dataDir = (): string => mkdtempSync(path.join(tmpdir(), 'ngate-data-'));

describe('config errors from YAML aliases, secrets and flags', () => {
  let gw: Gateway;
  let configFile: string;
  before(async () => {
    configFile = writeTempConfig(BASE);
    gw = await startGateway('', { configFile });
  });
  after(async () => {
    await gw?.stop();
  });

  it('validate: 150 references to one anchor are fine; a billion-laughs file is one file:line error, exit 1', async () => {
    const ok = await runCli(['validate', writeTempConfig(`${BASE}---\n${MANY_ALIASES}`)]);
    assert.equal(ok.code, 0, ok.stderr);
    const laughs = writeTempConfig(LAUGHS);
    const r = await runCli(['validate', laughs]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^${laughs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${ALIAS_ERROR.source}\n1 error\\(s\\); config refused\n$`));
  });

  it('start on a billion-laughs file: exit 78 with the error, no stack', async () => {
    const r = await runCli(['start', '--config', writeTempConfig(LAUGHS), '--admin', '127.0.0.1:0', '--data-dir', dataDir()]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, ALIAS_ERROR);
    assert.doesNotMatch(r.stderr, /ReferenceError|\n\s+at /);
  });

  it('the object API: 400 with file:line, logged as refused; many aliases are applied', async () => {
    const from = gw.logs().length;
    const r = await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body: LAUGHS });
    assert.equal(r.status, 400, r.body);
    assert.match(r.body, /"text": "request body:1: [^"]*YAML: the document expands to more than 1000000 nodes through its aliases/);
    await gw.waitForLog(/create refused; the running config stays/, from);
    const many = await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body: MANY_ALIASES });
    assert.equal(many.status, 201, many.body);
  });

  it('object create -f: exit 1 with file:line (not the unreachable code); reload: refused with file:line in the log', async () => {
    const laughs = writeTempConfig(LAUGHS);
    const r = await runCli(['object', 'create', '-f', laughs, '--server', gw.admin]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, ALIAS_ERROR);
    const from = gw.logs().length;
    writeFileSync(configFile, LAUGHS);
    const reload = await runCli(['reload', '--server', gw.admin]);
    assert.equal(reload.code, 1, reload.stderr);
    assert.match(reload.stderr, ALIAS_ERROR);
    const logged = (await gw.waitForLog(/reload refused; the running config stays/, from)).slice(from);
    assert.match(logged, ALIAS_ERROR);
    writeFileSync(configFile, BASE);
  });

  it('a refused secret is never shown: not in the API answer, the CLI output, nor the log', async () => {
    const from = gw.logs().length;
    const answer = await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body: BAD_SECRETS });
    assert.equal(answer.status, 400, answer.body);
    assert.match(answer.body, /basicAuth\.users\.alice: expected a bcrypt .* got another value of 19 characters \(not shown: a secret\)/);
    assert.match(answer.body, /apiKey\.keys\[0\]: expected a key of at least 16 characters, got another value of 15 characters/);
    const cli = await runCli(['object', 'apply', '-f', writeTempConfig(BAD_SECRETS), '--server', gw.admin]);
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stderr, /not shown: a secret/);
    const validate = await runCli(['validate', writeTempConfig(BAD_SECRETS.replace('keys: [', 'keys: [12345, '))]);
    assert.equal(validate.code, 1);
    assert.match(validate.stderr, /apiKey\.keys\[0\]: expected a key of at least 16 characters, got a number \(not shown: a secret\)/);
    const logged = (await gw.waitForLog(/apply refused; the running config stays/, from)).slice(from);
    for (const secret of [...SECRETS, '12345']) {
      for (const [where, text] of [['answer', answer.body], ['CLI', cli.stderr + cli.stdout], ['validate', validate.stderr], ['log', logged]] as const) {
        assert.ok(!text.includes(secret), `${where} shows ${secret}: ${text}`);
      }
    }
  });
});

describe('CLI timeout and start flags', () => {
  let silent: net.Server;
  let port: number;
  const sockets: net.Socket[] = [];
  before(async () => {
    // Accepts and never answers.
    silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  // Bounded: without the CLI's timeout this call would never return (the silent server closing in `after` ends it).
  it('a server that never answers: a clear message after --timeout, the unreachable exit code', { timeout: 20_000 }, async () => {
    const started = Date.now();
    const r = await runCli(['status', '--server', `127.0.0.1:${port}`, '--timeout', '300ms']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `ngate: no answer from the admin API at 127.0.0.1:${port} to GET /server_info within 0.3s (--timeout)\n`);
    assert.ok(Date.now() - started < 10_000);
    const post = await runCli(['reload', '--server', `127.0.0.1:${port}`, '--timeout', '300ms']);
    assert.equal(post.code, 2);
    assert.match(post.stderr, /to POST \/apis\/v2\/reload within 0\.3s \(--timeout\); the change may or may not have been applied/);
    const help = await runCli(['object', 'list', '--help']);
    assert.match(help.stdout, /--timeout <duration> [^]*\(default:\s+30s\)/);
  });

  it('start with a malformed --admin, --workers, --drain-timeout or --data-dir: exit 78 (EX_CONFIG) with one line', async () => {
    const file = writeTempConfig(BASE);
    for (const [flags, message] of [
      [['--admin', '22911'], /--admin .* argument '22911' is invalid\. expected address:port/],
      [['--admin', '127.0.0.1:99999'], /argument '127\.0\.0\.1:99999' is invalid/],
      [['--admin', '127.0.0.1:'], /argument '127\.0\.0\.1:' is invalid/],
      [['--workers', 'x'], /--workers <n\|auto>' argument 'x' is invalid/],
      [['--drain-timeout', 'soon'], /--drain-timeout <duration>' argument 'soon' is invalid/],
      [['--admin', '0.0.0.0:0'], /reachable beyond loopback; give --admin-token/],
      [['--data-dir', file], /--data-dir <dir>' argument '.*' is invalid\. .* exists and is not a directory/],
    ] as const) {
      const r = await runCli(['start', '--config', file, '--data-dir', dataDir(), ...(flags[0] === '--admin' ? [] : ['--admin', '127.0.0.1:0']), ...flags]);
      assert.equal(r.code, 78, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
