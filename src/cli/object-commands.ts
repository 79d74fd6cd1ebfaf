/**
 * `ngate object ...`, `ngate status` and `ngate reload`: thin clients of the
 * admin API, egctl-style. Output is YAML unless -o says otherwise; exit code
 * 0 done, 1 refused, 2 unreachable or not the ngate admin API; one readable line per error on stderr.
 */
import { readFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { parseConfigText } from '../config/load';
import { parseDuration } from '../shared/units';
import { decodeUtf8, InvalidUtf8 } from '../shared/utf8';
import { call, DEFAULT_TIMEOUT_MS, errorLines, EXIT_REFUSED, EXIT_UNREACHABLE, notAdmin, Unreachable, warningLines, type AdminAnswer, type ServerOptions } from './admin-client';

type Output = 'yaml' | 'json' | 'table';

class Refused extends Error {
  constructor(readonly lines: string[]) {
    super(lines[0]);
  }
}

function timeoutMs(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('expected a duration such as 500ms, 30s or 1m');
  return ms;
}

function withServer(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'admin API base URL (env NGATE_SERVER)', process.env.NGATE_SERVER ?? 'http://127.0.0.1:9901')
    .option('--token <token>', 'bearer token of the admin API (env NGATE_ADMIN_TOKEN)', process.env.NGATE_ADMIN_TOKEN)
    .addOption(new Option('--timeout <duration>', 'how long to wait for each admin API answer').argParser(timeoutMs).default(DEFAULT_TIMEOUT_MS, '30s'));
}

/** -o with only the formats the command prints (anything else is refused by commander, exit 1). */
function outputOption(formats: Output[]): Option {
  return new Option('-o, --output <format>', 'output format').choices(formats).default('yaml');
}

/**
 * YAML as egctl prints it (sequences at their key's indent, a list as one
 * YAML sequence), but with keys in the object's own order: some maps are
 * ordered (the first `certs` pair is the default certificate), and
 * applying what `get` printed must change nothing.
 */
function print(value: unknown, output: Output): void {
  if (output === 'json') process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(stringify(value, { indentSeq: false }));
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

type Json = Record<string, unknown>;

function isMap(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const isNamed = (v: unknown): boolean => isMap(v) && typeof v.name === 'string';
const hasGeneration = (v: unknown): boolean => isMap(v) && typeof v.generation === 'number';
const isObjectList = (v: unknown): boolean => Array.isArray(v) && v.every(isNamed);
const isStatus = (v: unknown): boolean => hasGeneration(v) && isObjectList((v as Json).objects);
const isBatch = (v: unknown): boolean =>
  hasGeneration(v) && Array.isArray((v as Json).objects) && ((v as Json).objects as unknown[]).every((o) => isNamed(o) && typeof (o as Json).action === 'string');

/**
 * A success of the shape `fits` expects, or: a refusal (exit 1, every error
 * line, naming `file` for errors in the sent file), or a body of another
 * shape (exit 2: whatever answered, it is not the admin API this CLI knows).
 */
function expectOk<T>(opts: ServerOptions, answer: AdminAnswer, fits: (body: unknown) => boolean, file?: string): T {
  if (answer.status >= 300) throw new Refused(errorLines(answer, file));
  if (!fits(answer.body)) throw notAdmin(opts, answer.request, `${answer.status} JSON of another shape`);
  return answer.body as T;
}

/** Runs one command body and turns its outcome into the exit code. */
function run<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof Refused) {
        for (const line of err.lines) process.stderr.write(`${line}\n`);
        process.exitCode = EXIT_REFUSED;
      } else if (err instanceof Unreachable) {
        process.stderr.write(`${err.message}\n`);
        process.exitCode = EXIT_UNREACHABLE;
      } else throw err;
    }
  };
}

/** `-f -` or no -f: stdin. */
function isStdin(file: string | undefined): file is undefined | '-' {
  return file === undefined || file === '-';
}

function readInput(file: string | undefined): { text: string; name: string } {
  const name = isStdin(file) ? 'stdin' : file;
  let bytes: Buffer;
  try {
    bytes = readFileSync(isStdin(file) ? 0 : file);
  } catch (err) {
    throw new Refused([`cannot read ${name}: ${(err as Error).message}`]);
  }
  try {
    return { text: decodeUtf8(bytes), name };
  } catch (err) {
    if (err instanceof InvalidUtf8) throw new Refused([`${name}: ${err.message}`]);
    throw err;
  }
}

interface FileObjects {
  /** The file (or stdin) as given: sent whole, so the server's `request body:N` is line N of it. */
  readonly text: string;
  readonly file: string;
  /** Relative paths in the objects mean this directory: the file's, or the working directory for stdin. */
  readonly baseDir: string;
}

/** Reads a file of objects and refuses it before sending when it is not YAML/JSON or an object has no name. */
function objectsOf(file: string | undefined): FileObjects {
  const { text, name } = readInput(file);
  const parsed = parseConfigText(text, name);
  if (parsed.errors.length > 0) throw new Refused(parsed.errors.map((e) => `${e.file}${e.line === undefined ? '' : `:${e.line}`}: ${e.message}`));
  if (parsed.objects.length === 0) throw new Refused([`${name}: no object`]);
  const unnamed = parsed.objects.filter((o) => typeof (o.value as { name?: unknown } | null)?.name !== 'string' || (o.value as { name: string }).name === '');
  if (unnamed.length > 0) throw new Refused(unnamed.map((o) => `${name}${o.line([]) === undefined ? '' : `:${o.line([])}`}: an object has no name`));
  return { text, file: name, baseDir: isStdin(file) ? process.cwd() : nodePath.dirname(nodePath.resolve(file)) };
}

/** Every object of the file in one change: all of them are applied (one generation) or none. */
async function sendBatch(opts: ServerOptions, mode: 'create' | 'update' | 'apply', file: string | undefined): Promise<void> {
  const input = objectsOf(file);
  const answer = await call(opts, 'POST', `/apis/v2/objects/batch?mode=${mode}&baseDir=${encodeURIComponent(input.baseDir)}`, input.text);
  const body = expectOk<{ generation: number; objects: { kind?: unknown; name: string; action: string }[] }>(opts, answer, isBatch, input.file);
  for (const o of body.objects) process.stdout.write(`${o.action} ${String(o.kind)}/${o.name} (generation ${body.generation})\n`);
  printWarnings(answer, input.file);
}

/** Warnings of an applied change on stderr, as `ngate validate` prints them; the exit code stays 0. */
function printWarnings(answer: AdminAnswer, file?: string): void {
  for (const line of warningLines(answer, file)) process.stderr.write(`${line}\n`);
}

/** `get NAME` or `get KIND NAME` (egctl style); with a kind the server checks it, so another kind of that name is not found. */
function target(first: string, second: string | undefined): { name: string; kind: string | undefined; query: string } {
  if (second === undefined) return { name: first, kind: undefined, query: '' };
  return { name: second, kind: first, query: `?kind=${encodeURIComponent(first)}` };
}

export function registerObjectCommands(program: Command): void {
  const object = program.command('object').description('create, update, get, list and delete live objects through the admin API');
  const path = (name: string): string => `/apis/v2/objects/${encodeURIComponent(name)}`;

  const fileOption = (): Option => new Option('-f, --file <file>', 'YAML or JSON file; - or none: stdin');
  withServer(object.command('create').description('create the object(s) of a file (stdin without -f)').addOption(fileOption()))
    .action(run(async (opts: ServerOptions & { file?: string }) => {
      await sendBatch(opts, 'create', opts.file);
    }));

  withServer(object.command('update').description('update the object(s) of a file (stdin without -f)').addOption(fileOption()))
    .action(run(async (opts: ServerOptions & { file?: string }) => {
      await sendBatch(opts, 'update', opts.file);
    }));

  withServer(object.command('apply').description('create or update every object of a file (stdin without -f)').addOption(fileOption()))
    .action(run(async (opts: ServerOptions & { file?: string }) => {
      await sendBatch(opts, 'apply', opts.file);
    }));

  withServer(object.command('get').description('show one object').argument('<kindOrName>').argument('[name]').addOption(outputOption(['yaml', 'json'])))
    .action(run(async (first: string, second: string | undefined, opts: ServerOptions & { output: Output }) => {
      const t = target(first, second);
      print(expectOk(opts, await call(opts, 'GET', `${path(t.name)}${t.query}`), isNamed), opts.output);
    }));

  withServer(object.command('list').description('list every running object').addOption(outputOption(['yaml', 'json', 'table'])))
    .action(run(async (opts: ServerOptions & { output: Output }) => {
      // Sorted by name, as egctl lists them.
      const objects = expectOk<Json[]>(opts, await call(opts, 'GET', '/apis/v2/objects'), isObjectList)
        .slice()
        .sort((a, b) => String(a.name).localeCompare(String(b.name)));
      if (opts.output !== 'table') return print(objects, opts.output);
      const status = expectOk<{ objects: { name: string; listen?: string }[] }>(opts, await call(opts, 'GET', '/apis/v2/status/objects'), isStatus);
      const listen = new Map(status.objects.map((s) => [s.name, s.listen ?? '']));
      const rows = objects.map((o) => [String(o.kind), String(o.name), listen.get(String(o.name)) ?? '']);
      process.stdout.write(table([['KIND', 'NAME', 'LISTEN'], ...rows]));
    }));

  withServer(object.command('delete').description('delete one object').argument('<kindOrName>').argument('[name]'))
    .action(run(async (first: string, second: string | undefined, opts: ServerOptions) => {
      const t = target(first, second);
      const answer = await call(opts, 'DELETE', `${path(t.name)}${t.query}`);
      const body = expectOk<{ kind?: unknown; name: string; generation: number }>(opts, answer, (b) => isNamed(b) && hasGeneration(b));
      // Kind/name as create and apply print it: the kind the object was written with.
      process.stdout.write(`deleted ${typeof body.kind === 'string' ? body.kind : (t.kind ?? '?')}/${body.name} (generation ${body.generation})\n`);
      printWarnings(answer);
    }));

  withServer(program.command('status').description('workers, generation and listeners of a running gateway').addOption(outputOption(['yaml', 'json'])))
    .action(run(async (opts: ServerOptions & { output: Output }) => {
      const info = expectOk<Json>(opts, await call(opts, 'GET', '/server_info'), (b) => hasGeneration(b) && typeof (b as Json).version === 'string');
      const objects = expectOk<{ objects: unknown[] }>(opts, await call(opts, 'GET', '/apis/v2/status/objects'), isStatus);
      print({ ...info, objects: objects.objects }, opts.output);
    }));

  withServer(program.command('reload').description('re-read the config file(s) of a running gateway and apply them over its objects'))
    .action(run(async (opts: ServerOptions) => {
      const answer = await call(opts, 'POST', '/apis/v2/reload');
      const body = expectOk<{ generation: number }>(opts, answer, hasGeneration);
      process.stdout.write(`reloaded (generation ${body.generation})\n`);
      printWarnings(answer);
    }));
}
