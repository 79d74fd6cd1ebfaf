import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { runCli, startGateway, type Gateway } from './helpers/gateway';
import { routedServer } from './helpers/pipelines';
import { http } from './helpers/http';

const SECRET = 'roundtrip-secret-roundtrip-secret-0123';

const CONFIG = `${routedServer('api', [['/', 'guarded']])}---
kind: Pipeline
name: guarded
flow:
  - filter: auth
    jumpIf: { invalid: END }
  - filter: ok
filters:
  - name: auth
    kind: Validator
    jwt: { algorithms: [HS256], secret: ${SECRET} }
  - name: ok
    kind: Mock
    rules: [{ body: welcome }]
`;

const sign = (key: string): Promise<string> => new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(Buffer.from(key));

function tempFile(name: string, data: string | Buffer): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ngate-roundtrip-')), name);
  writeFileSync(file, data);
  return file;
}

describe('objects shown with [redacted] and applied back', () => {
  let gw: Gateway;
  const cli = (args: string[]): ReturnType<typeof runCli> => runCli([...args, '--server', gw.admin]);
  const status = async (key: string): Promise<number> => (await http(gw.url('api', '/'), { headers: { authorization: `Bearer ${await sign(key)}` } })).status;
  const generation = async (): Promise<number> => (JSON.parse((await http(`${gw.admin}/server_info`)).body) as { generation: number }).generation;

  before(async () => {
    gw = await startGateway(CONFIG);
  });
  after(async () => {
    await gw?.stop();
  });

  it('get → apply and list → apply keep the real secret: a token signed with "[redacted]" stays 401', async () => {
    assert.equal(await status(SECRET), 200);
    assert.equal(await status('[redacted]'), 401);
    const got = await cli(['object', 'get', 'Pipeline', 'guarded']);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /secret: "?\[redacted\]"?/);
    const before = await generation();
    const applied = await cli(['object', 'apply', '-f', tempFile('guarded.yaml', got.stdout)]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(await generation(), before + 1, 'the object was applied again');
    assert.equal(await status('[redacted]'), 401);
    assert.equal(await status(SECRET), 200);

    const listed = await cli(['object', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    // A list prints one YAML sequence; apply takes documents.
    const docs = listed.stdout.replace(/^- /gm, '---\n').replace(/^ {2}/gm, '');
    const all = await cli(['object', 'apply', '-f', tempFile('all.yaml', docs)]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(await status('[redacted]'), 401);
    assert.equal(await status(SECRET), 200);
    // What is saved is the real secret, never the placeholder.
    const saved = readFileSync(path.join(gw.dataDir, 'running_objects.yaml'), 'utf8');
    assert.ok(saved.includes(SECRET));
    assert.ok(!saved.includes('[redacted]'));
  });

  it('an update that edits other fields keeps the secret (PUT)', async () => {
    const shown = JSON.parse((await http(`${gw.admin}/apis/v2/objects/guarded`)).body) as { filters: { rules?: { body: string }[] }[] };
    (shown.filters[1] as { rules: { body: string }[] }).rules = [{ body: 'edited' }];
    const r = await http(`${gw.admin}/apis/v2/objects/guarded`, { method: 'PUT', body: JSON.stringify(shown) });
    assert.equal(r.status, 200, r.body);
    const ok = await http(gw.url('api', '/'), { headers: { authorization: `Bearer ${await sign(SECRET)}` } });
    assert.deepEqual([ok.status, ok.body], [200, 'edited']);
    assert.equal(await status('[redacted]'), 401);
  });

  it('a new object (or one of another name) with the placeholder is refused with the field, nothing applied', async () => {
    const before = await generation();
    const body = CONFIG.split('---\n')[1]?.replace('name: guarded', 'name: copy').replace(SECRET, '"[redacted]"') ?? '';
    const created = await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body });
    assert.equal(created.status, 400, created.body);
    const answer = JSON.parse(created.body) as { error: string; errors: { path: string; line: number; text: string }[] };
    assert.match(answer.error, /placeholder/);
    assert.equal(answer.errors[0]?.path, 'filters[0].jwt.secret');
    assert.equal(answer.errors[0]?.line, 10);
    assert.match(answer.errors[0]?.text ?? '', /"\[redacted\]" is the placeholder `get` prints for a secret.*supply the real value/);

    const file = tempFile('copy.yaml', body);
    const batch = await cli(['object', 'apply', '-f', file]);
    assert.equal(batch.code, 1);
    assert.match(batch.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:10: Pipeline/copy filters\\[0\\]\\.jwt\\.secret: "\\[redacted\\]" is the placeholder`));
    assert.equal(await generation(), before);
    assert.equal((await http(`${gw.admin}/apis/v2/objects/copy`)).status, 404);
  });

  it('a list of redacted keys is kept whole or replaced whole, never matched by position after an edit', async () => {
    const [a, b, c] = ['key-aaaaaaaaaaaaaaaa', 'key-bbbbbbbbbbbbbbbb', 'key-cccccccccccccccc'];
    const keyed = (keys: string[]): string => `kind: Pipeline
name: keyed
flow: [{ filter: auth, jumpIf: { invalid: END } }, { filter: ok }]
filters:
  - { name: auth, kind: Validator, apiKey: { keys: ${JSON.stringify(keys)} } }
  - { name: ok, kind: Mock, rules: [{ body: keyed }] }
`;
    assert.equal((await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body: keyed([a, b, c]) })).status, 201);
    const server = await http(`${gw.admin}/apis/v2/objects/api`);
    const api = JSON.parse(server.body) as { rules: { paths: { pathPrefix: string; backend: string }[] }[] };
    api.rules[0]?.paths.unshift({ pathPrefix: '/keyed', backend: 'keyed' });
    assert.equal((await http(`${gw.admin}/apis/v2/objects/api`, { method: 'PUT', body: JSON.stringify(api) })).status, 200);
    const accepted = async (key: string): Promise<number> => (await http(gw.url('api', '/keyed'), { headers: { 'x-api-key': key } })).status;
    const put = (keys: string[]): ReturnType<typeof http> => http(`${gw.admin}/apis/v2/objects/keyed`, { method: 'PUT', body: keyed(keys) });

    const R = '[redacted]';
    assert.equal((await put([R, R, R])).status, 200, 'kept whole');
    assert.deepEqual([await accepted(a), await accepted(b), await accepted(c)], [200, 200, 200]);
    const generationBefore = await generation();
    for (const edited of [[R, R], [R, R, R, R], ['key-dddddddddddddddd', R, R]]) {
      const r = await put(edited);
      assert.equal(r.status, 400, `${JSON.stringify(edited)}: ${r.body}`);
      assert.match(r.body, /filters\[0\]\.apiKey\.keys/);
      assert.match(r.body, /changed length or mixes them with real values/);
    }
    assert.equal(await generation(), generationBefore, 'nothing applied');
    assert.deepEqual([await accepted(a), await accepted(b), await accepted(c)], [200, 200, 200]);
    assert.equal((await put([b, c])).status, 200, 'replaced whole');
    assert.deepEqual([await accepted(a), await accepted(b), await accepted(c)], [401, 200, 200]);
  });

  it('refuses a body that is not valid UTF-8 with the byte offset; the CLI names the file', async () => {
    const before = await generation();
    const bytes = Buffer.concat([Buffer.from('kind: Pipeline\nname: bad\n# caf'), Buffer.from([0xe9, 0x0a])]);
    const r = await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body: bytes });
    assert.equal(r.status, 400);
    assert.equal((JSON.parse(r.body) as { error: string }).error, `body is not valid UTF-8 (byte offset ${bytes.length - 2})`);
    const file = tempFile('latin1.yaml', bytes);
    const cliAnswer = await cli(['object', 'apply', '-f', file]);
    assert.equal(cliAnswer.code, 1);
    assert.equal(cliAnswer.stderr.trim(), `${file}: not valid UTF-8 (byte offset ${bytes.length - 2})`);
    assert.equal(await generation(), before);
  });
});
