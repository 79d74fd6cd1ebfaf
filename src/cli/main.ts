/** The only argv reader: commander program with every ngate command. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isIP } from 'node:net';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { loadAndCompile } from '../config/config-file';
import { formatConfigError } from '../config/validate';
import { loadConfigFile } from '../config/load';
import { stringify as stringifyYaml } from 'yaml';
import { routeSignals } from '../supervisor/early-signals';
import { surviveClosedStdio } from '../shared/closed-stdio';
import { Supervisor } from '../supervisor/supervisor';
import { EXIT_CONFIG } from '../engine/options';
import { parseDuration } from '../shared/units';
import { registerObjectCommands } from './object-commands';
import { version } from './version';
import { autoWorkers } from './worker-count';

function workerCount(value: string): number {
  if (value === 'auto') return autoWorkers();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('expected "auto" or a number from 1 to 256');
  return n;
}

/** An existing path that is not a directory can never hold the data dir: refused at the flag, not with a warning per change. */
function dataDirPath(value: string): string {
  let isFile = false;
  try {
    isFile = !statSync(value).isDirectory();
  } catch {
    // Missing (created at start) or unreadable (reported by the engine): not this check's business.
  }
  if (isFile) throw new InvalidArgumentError(`${value} exists and is not a directory`);
  return value;
}

function durationMs(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 500ms, 30s or 1m');
  return ms;
}

interface HostPort {
  readonly address: string;
  readonly port: number;
  /** As given, for messages. */
  readonly text: string;
}

function parseHostPort(value: string): HostPort {
  const colon = value.lastIndexOf(':');
  const digits = value.slice(colon + 1);
  const port = Number(digits);
  if (colon <= 0 || !/^\d{1,5}$/.test(digits) || port > 65535) {
    throw new InvalidArgumentError(`expected address:port such as 127.0.0.1:9901, got ${value}`);
  }
  return { address: value.slice(0, colon).replace(/^\[|\]$/g, ''), port, text: value };
}

/** Collects repeated --dns-server values; each is an IP address with an optional port. */
function dnsServer(value: string, previous: string[]): string[] {
  const host = value.startsWith('[') ? value.slice(1, value.indexOf(']')) : value.includes('.') ? value.split(':')[0] ?? '' : value;
  if (isIP(host) === 0) throw new InvalidArgumentError(`expected an IP address with an optional port such as 127.0.0.1:5353, got ${value}`);
  return [...previous, value];
}

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.');
}

/** The usage error was printed by commander; only the exit code is left to set. */
class Reported extends Error {}

const program = new Command();
program.name('ngate').description('traffic orchestration gateway').version(version);

program
  .command('start')
  .description('run the gateway (supervisor + engine with worker threads)')
  .option('-c, --config <file...>', 'config file(s)', ['configs/gateway.yaml'])
  .option('-w, --workers <n|auto>', 'worker threads: a number or auto (one per usable core: CPU affinity, capped by a cgroup CPU quota)', workerCount, 1)
  .addOption(new Option('--drain-timeout <duration>', 'how long a stop waits for in-flight requests').argParser(durationMs).default(30_000, '30s'))
  .addOption(new Option('--admin <address:port>', 'admin API listen address').argParser(parseHostPort).default(parseHostPort('127.0.0.1:9901'), '127.0.0.1:9901'))
  .option('--admin-token <token>', 'bearer token the admin API requires on every call but GET /ready (env NGATE_ADMIN_TOKEN)')
  .option('--data-dir <dir>', 'where objects applied live are kept (running_objects.yaml); once it holds them they win over --config', dataDirPath, './data')
  .addOption(new Option('--dns-server <address[:port]...>', 'DNS server(s) for pools with discovery: dns').argParser(dnsServer).default([], 'those of /etc/resolv.conf'))
  // A flag the gateway cannot start on is a configuration error: 78 (EX_CONFIG), which a systemd unit does not restart.
  .exitOverride((err: CommanderError) => {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_CONFIG;
    throw new Reported(err.message);
  })
  .action((opts: { config: string[]; workers: number; drainTimeout: number; admin: HostPort; adminToken?: string; dataDir: string; dnsServer: string[] }) => {
    const admin = opts.admin;
    const token = opts.adminToken ?? process.env.NGATE_ADMIN_TOKEN ?? null;
    if (!isLoopback(admin.address) && token === null) {
      process.stderr.write(`ngate: the admin API on ${admin.text} is reachable beyond loopback; give --admin-token (or NGATE_ADMIN_TOKEN)\n`);
      process.exitCode = EXIT_CONFIG;
      return;
    }
    const supervisor = new Supervisor({
      configFiles: opts.config.map((f) => path.resolve(f)),
      dataDir: path.resolve(opts.dataDir),
      workers: opts.workers,
      drainTimeoutMs: opts.drainTimeout,
      swapTimeoutMs: 10_000,
      adminAddress: admin.address,
      adminPort: admin.port,
      adminToken: token,
      dnsServers: opts.dnsServer,
    });
    surviveClosedStdio();
    // Signals that came while the CLI loaded are handed over here: a SIGTERM stops before anything starts.
    routeSignals((signal) => {
      if (signal === 'SIGHUP') supervisor.reload();
      else if (signal === 'SIGUSR1') supervisor.reopenLogs();
      else supervisor.stop(signal);
    });
    supervisor.start();
  });

program
  .command('validate')
  .description('check config file(s): exit 0 when valid, 1 with every error otherwise; nothing is applied')
  .argument('<files...>')
  .action((files: string[]) => {
    const outcome = loadAndCompile(files, 1);
    for (const w of outcome.warnings) process.stderr.write(`warning: ${formatConfigError(w)}\n`);
    if (outcome.errors.length > 0) {
      for (const e of outcome.errors) process.stderr.write(`${formatConfigError(e)}\n`);
      process.stderr.write(`${outcome.errors.length} error(s); config refused\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`ok: ${outcome.objects.length} object(s) in ${files.join(', ')}\n`);
  });

program
  .command('convert')
  .description('print a compatible config (FGW config.json) as native ngate YAML; exit 1 with every error when it cannot be converted')
  .argument('<file>')
  .action((file: string) => {
    const loaded = loadConfigFile(file);
    if (loaded.errors.length > 0) {
      for (const e of loaded.errors) process.stderr.write(`${e.file}${e.line === undefined ? '' : `:${e.line}`}: ${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(loaded.objects.map((o) => stringifyYaml(o.value)).join('---\n'));
  });

registerObjectCommands(program);

program.parseAsync(process.argv).catch((err: Error) => {
  if (err instanceof Reported) return;
  process.stderr.write(`ngate: ${err.message}\n`);
  process.exitCode = 2;
});
