import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { startBackends, type Backend } from './helpers/backends';
import { runCli, startGateway, type Gateway } from './helpers/gateway';
import { routedServer } from './helpers/pipelines';
import { http } from './helpers/http';

const EMPTY = '# no objects: everything arrives through the object API\n';

function server(name: string, backend: string): string {
  return routedServer(name, [['/', backend]]);
}

function pipeline(name: string, backend: Backend, filterKind = 'Proxy'): string {
  return `kind: HTTPPipeline
name: ${name}
flow:
  - filter: proxy
filters:
  - name: proxy
    kind: ${filterKind}
    mainPool:
      servers:
        - url: ${backend.url}
`;
}

/** A file named `name` in a fresh temp dir, so error lines can be checked against its name. */
function writeFile(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ngate-objcli-')), name);
  writeFileSync(file, text);
  return file;
}

describe('object CLI: kinds, multi-document files and inputs', () => {
  let backend: Backend;
  let gw: Gateway;
  let cli: (args: string[], input?: string) => ReturnType<typeof runCli>;

  async function names(): Promise<string[]> {
    const r = await http(`${gw.admin}/apis/v2/objects`);
    return (JSON.parse(r.body) as { kind: string; name: string }[]).map((o) => `${o.kind}/${o.name}`).sort();
  }
  async function generation(): Promise<number> {
    return (JSON.parse((await http(`${gw.admin}/server_info`)).body) as { generation: number }).generation;
  }

  before(async () => {
    [backend] = (await startBackends(1)) as [Backend];
    gw = await startGateway(EMPTY, { workers: 1 });
    cli = (args, input) => runCli([...args, '--server', gw.admin], input);
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  it('applies every object of a multi-document file as one generation', async () => {
    const before = await generation();
    const r = await cli(['object', 'apply', '-f', writeFile('two.yaml', `${server('s-a', 'p-a')}---\n${pipeline('p-a', backend)}`)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `created HTTPServer/s-a (generation ${before + 1})\ncreated HTTPPipeline/p-a (generation ${before + 1})\n`);
    assert.equal(await generation(), before + 1);
    // status names each kind as written, as list and get do.
    const status = await cli(['status', '-o', 'json']);
    assert.equal(status.code, 0, status.stderr);
    const kinds = (JSON.parse(status.stdout) as { objects: { kind: string; name: string }[] }).objects.map((o) => `${o.kind}/${o.name}`).sort();
    assert.deepEqual(kinds, ['HTTPPipeline/p-a', 'HTTPServer/s-a']);
  });

  it('refuses a multi-document file with one bad document whole, naming file:line; nothing is applied', async () => {
    const gen = await generation();
    const text = `${pipeline('p-b', backend)}---\n${pipeline('p-c', backend)}---\n${pipeline('p-d', backend, 'Teleport')}`;
    const badLine = text.split('\n').indexOf('    kind: Teleport') + 1;
    assert.ok(badLine > 19);
    const file = writeFile('multi.yaml', text);
    for (const verb of ['create', 'apply']) {
      const r = await cli(['object', verb, '-f', file]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, new RegExp(`^${file.replace(/[.\\/]/g, '\\$&')}:${badLine}: HTTPPipeline/p-d filters\\[0\\]\\.kind: unknown filter kind "Teleport"`, 'm'));
      assert.doesNotMatch(r.stderr, /request body/);
      assert.equal(r.stdout, '');
    }
    assert.deepEqual(await names(), ['HTTPPipeline/p-a', 'HTTPServer/s-a']);
    assert.equal(await generation(), gen);
  });

  it('refuses a create whose last document already exists; the others are not created', async () => {
    const text = `${pipeline('p-b', backend)}---\n${pipeline('p-a', backend)}`;
    const file = writeFile('dup.yaml', text);
    const r = await cli(['object', 'create', '-f', file]);
    assert.equal(r.code, 1);
    // The existing one is named where it is in the file.
    const line = text.split('\n').lastIndexOf('kind: HTTPPipeline') + 1;
    assert.equal(r.stderr, `object p-a already exists; use update\n${file}:${line}: HTTPPipeline/p-a: already exists; use update\n`);
    assert.deepEqual(await names(), ['HTTPPipeline/p-a', 'HTTPServer/s-a']);
    // Every existing one is named, not only the first; an update names every missing one.
    const both = `${pipeline('p-a', backend)}---\n${pipeline('p-c', backend)}---\n${server('s-a', 'p-a')}`;
    const bothFile = writeFile('dups.yaml', both);
    const created = await cli(['object', 'create', '-f', bothFile]);
    assert.equal(created.code, 1);
    const serverLine = both.split('\n').indexOf('kind: HTTPServer') + 1;
    assert.equal(created.stderr, `2 objects already exist; use update\n${bothFile}:1: HTTPPipeline/p-a: already exists; use update\n${bothFile}:${serverLine}: HTTPServer/s-a: already exists; use update\n`);
    const missing = `${pipeline('p-x', backend)}---\n${pipeline('p-y', backend)}`;
    const updated = await cli(['object', 'update', '-f', writeFile('missing.yaml', missing)]);
    assert.equal(updated.code, 1);
    assert.match(updated.stderr, /^2 objects not found\n.*HTTPPipeline\/p-x: not found; use create\n.*HTTPPipeline\/p-y: not found; use create\n$/);
    assert.deepEqual(await names(), ['HTTPPipeline/p-a', 'HTTPServer/s-a']);
  });

  it('get and delete with a kind find only an object of that kind (aliases are the same kind)', async () => {
    const get = await cli(['object', 'get', 'HTTPServer', 'p-a']);
    assert.equal(get.code, 1);
    assert.equal(get.stderr, 'no HTTPServer named "p-a"\n');
    assert.equal(get.stdout, '');
    const del = await cli(['object', 'delete', 'HTTPServer', 'p-a']);
    assert.equal(del.code, 1);
    assert.equal(del.stderr, 'no HTTPServer named "p-a"\n');
    assert.deepEqual(await names(), ['HTTPPipeline/p-a', 'HTTPServer/s-a']);
    const alias = await cli(['object', 'get', 'Pipeline', 'p-a', '-o', 'json']);
    assert.equal(alias.code, 0, alias.stderr);
    assert.equal((JSON.parse(alias.stdout) as { kind: string }).kind, 'HTTPPipeline');
    const api = await http(`${gw.admin}/apis/v2/objects/s-a?kind=HTTPPipeline`);
    assert.equal(api.status, 404);
    assert.equal((JSON.parse(api.body) as { error: string }).error, 'no HTTPPipeline named "s-a"');
    assert.equal((await http(`${gw.admin}/apis/v2/objects/s-a?kind=Teapot`)).status, 400);
  });

  it('refuses an update that would change an object kind, through the CLI and the API', async () => {
    const gen = await generation();
    const kindFile = writeFile('kind.yaml', server('p-a', 'p-a').replace('port: 0', 'port: 0\nhttps: false'));
    const r = await cli(['object', 'update', '-f', kindFile]);
    assert.equal(r.code, 1);
    // Named at the kind line of the offending document, as every other refusal of a file is.
    assert.equal(r.stderr, `kind cannot change (Pipeline/p-a exists; delete it first)\n${kindFile}:1: HTTPServer/p-a kind: kind cannot change (Pipeline/p-a exists; delete it first)\n`);
    const put = await http(`${gw.admin}/apis/v2/objects/p-a`, { method: 'PUT', body: server('p-a', 's-a') });
    assert.equal(put.status, 409);
    const refusal = JSON.parse(put.body) as { error: string; errors: { file: string; line: number; path: string; text: string }[] };
    assert.equal(refusal.error, 'kind cannot change (Pipeline/p-a exists; delete it first)');
    assert.deepEqual(
      refusal.errors.map((e) => [e.file, e.line, e.path, e.text]),
      [['request body', 1, 'kind', 'request body:1: HTTPServer/p-a kind: kind cannot change (Pipeline/p-a exists; delete it first)']],
    );
    // In a multi-document file: the document that changes a kind, at its line, and nothing applied.
    const text = `${pipeline('p-new', backend)}---\n${server('p-a', 's-a')}`;
    const kindLine = text.split('\n').indexOf('kind: HTTPServer') + 1;
    const kind2 = writeFile('kind2.yaml', text);
    const applied = await cli(['object', 'apply', '-f', kind2]);
    assert.equal(applied.code, 1);
    assert.equal(applied.stderr, `kind cannot change (Pipeline/p-a exists; delete it first)\n${kind2}:${kindLine}: HTTPServer/p-a kind: kind cannot change (Pipeline/p-a exists; delete it first)\n`);
    assert.equal(await generation(), gen);
    // An alias of the same kind is an ordinary update.
    const same = await cli(['object', 'update', '-f', writeFile('same.yaml', pipeline('p-a', backend).replace('kind: HTTPPipeline', 'kind: Pipeline'))]);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(await generation(), gen + 1);
    assert.deepEqual(await names(), ['HTTPServer/s-a', 'Pipeline/p-a']);
  });

  it('lists as one YAML sequence sorted by name, sequences at the indent of their key (egctl shape), keys in the order of each object; -o json stays an array', async () => {
    const r = await cli(['object', 'list']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /^---/m);
    assert.match(r.stdout, /\n {2}rules:\n {2}- paths:\n {4}- pathPrefix: \//);
    const list = parse(r.stdout) as Record<string, unknown>[];
    assert.ok(Array.isArray(list));
    assert.deepEqual(list.map((o) => o.name), ['p-a', 's-a']);
    const asJson = await cli(['object', 'list', '-o', 'json']);
    assert.deepEqual(JSON.parse(asJson.stdout), list);
    const api = JSON.parse((await http(`${gw.admin}/apis/v2/objects`)).body) as Record<string, unknown>[];
    for (const o of list) assert.deepEqual(Object.keys(o), Object.keys(api.find((a) => a.name === o.name) ?? {}));
  });

  it('get prints an ordered map in its order, and applying what get printed changes nothing', async () => {
    // The first `certs` pair is the default certificate: a map's order can mean something.
    const ordered = `kind: Pipeline
name: ordered
filters:
  - name: m
    kind: Mock
    rules: [{ body: x, headers: { z-first: '1', m-second: '2', a-third: '3' } }]
`;
    const created = await cli(['object', 'create', '-f', '-'], ordered);
    assert.equal(created.code, 0, created.stderr);
    const shown = await cli(['object', 'get', 'ordered']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /z-first: "?1"?\n\s*m-second: "?2"?\n\s*a-third: "?3"?/);
    const before = JSON.parse((await http(`${gw.admin}/apis/v2/objects/ordered`)).body) as unknown;
    const applied = await cli(['object', 'apply', '-f', writeFile('ordered.yaml', shown.stdout)]);
    assert.equal(applied.code, 0, applied.stderr);
    const after = (await http(`${gw.admin}/apis/v2/objects/ordered`)).body;
    assert.equal(JSON.stringify(JSON.parse(after)), JSON.stringify(before), 'the same object, keys in the same order');
    const headers = (JSON.parse(after) as { filters: { rules: { headers: Record<string, string> }[] }[] }).filters[0]?.rules[0]?.headers ?? {};
    assert.deepEqual(Object.keys(headers), ['z-first', 'm-second', 'a-third']);
    assert.equal((await cli(['object', 'delete', 'ordered'])).code, 0);
  });

  it('refuses an unknown -o format and takes --server without a scheme', async () => {
    for (const args of [['object', 'list', '-o', 'xml'], ['object', 'get', 'p-a', '-o', 'table'], ['status', '-o', 'xml']]) {
      const r = await cli(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /argument '.*' is invalid\. Allowed choices are/);
      assert.equal(r.stdout, '');
    }
    const bare = await runCli(['object', 'get', 'Pipeline', 'p-a', '--server', gw.admin.replace(/^http:\/\//, '')]);
    assert.equal(bare.code, 0, bare.stderr);
    assert.match(bare.stdout, /^name: p-a$/m);
  });

  it('deletes by an alias of the kind', async () => {
    const r = await cli(['object', 'delete', 'HTTPPipeline', 'p-a']);
    assert.equal(r.code, 0, r.stderr);
    // The kind the object was last written with (`Pipeline` since the alias update above).
    assert.match(r.stdout, /^deleted Pipeline\/p-a \(generation \d+\)\n$/);
    assert.deepEqual(await names(), ['HTTPServer/s-a']);
    // The route left without its Pipeline: the warning validate would give, brought by this change.
    assert.match(r.stderr, /^warning: .*HTTPServer\/s-a rules\[0\]\.paths\[0\]\.backend: no Pipeline named "p-a": this route answers 503 NGATE_ERR_PIPELINE_MISSING until one is created\n$/);
  });

  it('names where the first of two documents of one name is, in the file the CLI sent', async () => {
    const gen = await generation();
    const text = `${pipeline('p-twice', backend)}---\n${pipeline('p-twice', backend)}`;
    const second = text.split('\n').lastIndexOf('name: p-twice') + 1;
    const file = writeFile('twice.yaml', text);
    const r = await cli(['object', 'apply', '-f', file]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `refused: 1 error(s)\n${file}:${second}: HTTPPipeline/p-twice name: name "p-twice" is already used by HTTPPipeline/p-twice, first defined at ${file}:2\n`);
    assert.equal(await generation(), gen);
  });

  it('create answers with the warnings ngate validate gives for the same file, and the CLI prints them', async () => {
    const file = writeFile('dangling.yaml', `${pipeline('p-w', backend)}---\n${server('s-w', 'p-nope')}`);
    const validated = await runCli(['validate', file]);
    assert.equal(validated.code, 0, validated.stderr);
    const expected = validated.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    assert.equal(expected.length, 1, validated.stderr);
    assert.match(expected[0] ?? '', /dangling\.yaml:\d+: HTTPServer\/s-w rules\[0\]\.paths\[0\]\.backend: no Pipeline named "p-nope"/);
    const r = await cli(['object', 'create', '-f', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^created HTTPPipeline\/p-w \(generation \d+\)\ncreated HTTPServer\/s-w/);
    // Only this change's: not the earlier one about s-a, which this change did not touch.
    assert.equal(r.stderr, `${expected.join('\n')}\n`);
    // And in the gateway log, as the start logs them.
    assert.match(gw.logs(), /WARN.*request body:\d+: HTTPServer\/s-w rules\[0\]\.paths\[0\]\.backend: no Pipeline named \\?"p-nope\\?"/);

    // POST of one object: the answer carries them, located in the request body.
    const post = await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body: server('s-x', 'p-none') });
    assert.equal(post.status, 201, post.body);
    const answer = JSON.parse(post.body) as { warnings?: { line: number; path: string; text: string }[] };
    assert.deepEqual(
      answer.warnings?.map((w) => [w.line, w.path, w.text]),
      [[8, 'rules[0].paths[0].backend', 'request body:8: HTTPServer/s-x rules[0].paths[0].backend: no Pipeline named "p-none": this route answers 503 NGATE_ERR_PIPELINE_MISSING until one is created']],
    );
    // A change that resolves it answers without warnings.
    const fixed = await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body: pipeline('p-none', backend) });
    assert.equal(fixed.status, 201, fixed.body);
    assert.equal((JSON.parse(fixed.body) as { warnings?: unknown }).warnings, undefined);
  });
});
