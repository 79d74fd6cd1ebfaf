/**
 * `ngate object ...`, `ngate status` and `ngate reload`: thin clients of the
 * admin API, egctl-style. Output is YAML unless -o says otherwise; exit code
 * 0 done, 1 refused, 2 unreachable; one readable line per error on stderr.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { parseConfigText } from '../config/load';
import { call, errorLines, EXIT_REFUSED, EXIT_UNREACHABLE, Unreachable, type AdminAnswer, type ServerOptions } from './admin-client';

type Output = 'yaml' | 'json' | 'table';

class Refused extends Error {
  constructor(readonly lines: string[]) {
    super(lines[0]);
  }
}

function withServer(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'admin API base URL (env NGATE_SERVER)', process.env.NGATE_SERVER ?? 'http://127.0.0.1:9901')
    .option('--token <token>', 'bearer token of the admin API (env NGATE_ADMIN_TOKEN)', process.env.NGATE_ADMIN_TOKEN);
}

function print(value: unknown, output: Output): void {
  if (output === 'json') process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else if (Array.isArray(value)) process.stdout.write(value.map((v) => stringify(v)).join('---\n'));
  else process.stdout.write(stringify(value));
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

function expectOk(answer: AdminAnswer): AdminAnswer {
  if (answer.status >= 300) throw new Refused(errorLines(answer));
  return answer;
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

function readInput(file: string | undefined): { text: string; name: string } {
  const name = file ?? 'stdin';
  try {
    return { text: readFileSync(file ?? 0, 'utf8'), name };
  } catch (err) {
    throw new Refused([`cannot read ${name}: ${(err as Error).message}`]);
  }
}

/** The objects of a file, each as the text to send (the file itself when it holds one, so lines match). */
function objectsOf(file: string | undefined): { name: string; kind: string; body: string }[] {
  const { text, name } = readInput(file);
  const parsed = parseConfigText(text, name);
  if (parsed.errors.length > 0) throw new Refused(parsed.errors.map((e) => `${e.file}${e.line === undefined ? '' : `:${e.line}`}: ${e.message}`));
  if (parsed.objects.length === 0) throw new Refused([`${name}: no object`]);
  return parsed.objects.map((o) => {
    const v = (o.value ?? {}) as { name?: unknown; kind?: unknown };
    const objName = typeof v.name === 'string' ? v.name : '';
    if (objName === '') throw new Refused([`${name}${o.line([]) === undefined ? '' : `:${o.line([])}`}: an object has no name`]);
    return { name: objName, kind: typeof v.kind === 'string' ? v.kind : '?', body: parsed.objects.length === 1 ? text : JSON.stringify(o.value) };
  });
}

function done(verb: string, o: { kind: string; name: string }, answer: AdminAnswer): void {
  const gen = (answer.body as { generation?: unknown }).generation;
  process.stdout.write(`${verb} ${o.kind}/${o.name} (generation ${String(gen)})\n`);
}

/** `get NAME` or `get KIND NAME` (egctl style): the kind only documents intent. */
function nameArg(first: string, second: string | undefined): string {
  return second ?? first;
}

export function registerObjectCommands(program: Command): void {
  const object = program.command('object').description('create, update, get, list and delete live objects through the admin API');
  const path = (name: string): string => `/apis/v2/objects/${encodeURIComponent(name)}`;

  withServer(object.command('create').description('create the object(s) of a file (stdin without -f)').option('-f, --file <file>', 'YAML or JSON file'))
    .action(run(async (opts: ServerOptions & { file?: string }) => {
      for (const o of objectsOf(opts.file)) done('created', o, expectOk(await call(opts, 'POST', '/apis/v2/objects', o.body)));
    }));

  withServer(object.command('update').description('update the object(s) of a file (stdin without -f)').option('-f, --file <file>', 'YAML or JSON file'))
    .action(run(async (opts: ServerOptions & { file?: string }) => {
      for (const o of objectsOf(opts.file)) done('updated', o, expectOk(await call(opts, 'PUT', path(o.name), o.body)));
    }));

  withServer(object.command('apply').description('create or update every object of a file').requiredOption('-f, --file <file>', 'YAML or JSON file'))
    .action(run(async (opts: ServerOptions & { file: string }) => {
      for (const o of objectsOf(opts.file)) {
        const updated = await call(opts, 'PUT', path(o.name), o.body);
        if (updated.status === 404) done('created', o, expectOk(await call(opts, 'POST', '/apis/v2/objects', o.body)));
        else done('updated', o, expectOk(updated));
      }
    }));

  withServer(object.command('get').description('show one object').argument('<kindOrName>').argument('[name]').option('-o, --output <format>', 'yaml or json', 'yaml'))
    .action(run(async (first: string, second: string | undefined, opts: ServerOptions & { output: Output }) => {
      print(expectOk(await call(opts, 'GET', path(nameArg(first, second)))).body, opts.output);
    }));

  withServer(object.command('list').description('list every running object').option('-o, --output <format>', 'yaml, json or table', 'yaml'))
    .action(run(async (opts: ServerOptions & { output: Output }) => {
      const objects = expectOk(await call(opts, 'GET', '/apis/v2/objects')).body as Record<string, unknown>[];
      if (opts.output !== 'table') return print(objects, opts.output);
      const status = expectOk(await call(opts, 'GET', '/apis/v2/status/objects')).body as { objects: { name: string; listen?: string }[] };
      const listen = new Map(status.objects.map((s) => [s.name, s.listen ?? '']));
      const rows = objects.map((o) => [String(o.kind), String(o.name), listen.get(String(o.name)) ?? '']);
      process.stdout.write(table([['KIND', 'NAME', 'LISTEN'], ...rows]));
    }));

  withServer(object.command('delete').description('delete one object').argument('<kindOrName>').argument('[name]'))
    .action(run(async (first: string, second: string | undefined, opts: ServerOptions) => {
      const name = nameArg(first, second);
      const answer = expectOk(await call(opts, 'DELETE', path(name)));
      process.stdout.write(`deleted ${second === undefined ? '' : `${first}/`}${name} (generation ${String((answer.body as { generation?: unknown }).generation)})\n`);
    }));

  withServer(program.command('status').description('workers, generation and listeners of a running gateway').option('-o, --output <format>', 'yaml or json', 'yaml'))
    .action(run(async (opts: ServerOptions & { output: Output }) => {
      const info = expectOk(await call(opts, 'GET', '/server_info')).body as Record<string, unknown>;
      const objects = expectOk(await call(opts, 'GET', '/apis/v2/status/objects')).body as { objects: unknown[] };
      print({ ...info, objects: objects.objects }, opts.output);
    }));

  withServer(program.command('reload').description('re-read the config file(s) of a running gateway and apply them over its objects'))
    .action(run(async (opts: ServerOptions) => {
      const answer = expectOk(await call(opts, 'POST', '/apis/v2/reload'));
      process.stdout.write(`reloaded (generation ${String((answer.body as { generation?: unknown }).generation)})\n`);
    }));
}
