/** The only argv reader: commander program with every ngate command. */
import { Command, InvalidArgumentError } from 'commander';
import { availableParallelism } from 'node:os';
import { loadAndCompile } from '../config/config-file';
import { formatConfigError } from '../config/validate';
import { Supervisor } from '../supervisor/supervisor';
import { parseDuration } from '../shared/units';
import { version } from './version';

function workerCount(value: string): number {
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('expected "auto" or a number from 1 to 256');
  return n;
}

function durationMs(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 500ms, 30s or 1m');
  return ms;
}

const program = new Command();
program.name('ngate').description('traffic orchestration gateway').version(version);

program
  .command('start')
  .description('run the gateway (supervisor + engine with worker threads)')
  .option('-c, --config <file...>', 'config file(s)', ['configs/gateway.yaml'])
  .option('-w, --workers <n|auto>', 'worker threads: a number or auto (one per core)', workerCount, 1)
  .option('--drain-timeout <duration>', 'how long a stop waits for in-flight requests', durationMs, 30_000)
  .action((opts: { config: string[]; workers: number; drainTimeout: number }) => {
    const supervisor = new Supervisor({ configFiles: opts.config, workers: opts.workers, drainTimeoutMs: opts.drainTimeout, swapTimeoutMs: 10_000 });
    process.on('SIGTERM', () => supervisor.stop());
    process.on('SIGINT', () => supervisor.stop());
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

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`ngate: ${err.message}\n`);
  process.exitCode = 2;
});
