/**
 * The coordinator's access log files: one append stream per target path
 * ('stdout' writes to standard output). SIGUSR1 reopens every file, after
 * logrotate moved it. When a disk (or the reader of stdout) cannot keep up,
 * lines beyond `MAX_PENDING_BYTES` are dropped and counted rather than held
 * without bound.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { log } from '../../shared/log';

const MAX_PENDING_BYTES = 16 * 1024 * 1024;

export class AccessLogWriter {
  private readonly files = new Map<string, WriteStream>();
  dropped = 0;

  write(target: string, text: string): void {
    const stream = target === 'stdout' ? process.stdout : this.open(target);
    if (stream.writableLength > MAX_PENDING_BYTES) {
      if (this.dropped === 0) log('WARN', 'access log cannot keep up, dropping lines', { path: target });
      this.dropped += countLines(text);
      return;
    }
    stream.write(text);
  }

  /** Closes the files no configured server writes to any more (called after each committed config). */
  retain(targets: ReadonlySet<string>): void {
    for (const [path, stream] of this.files) {
      if (targets.has(path)) continue;
      stream.end();
      this.files.delete(path);
    }
  }

  /** Closes every file; the next line reopens it at its path (a new file after rotation). */
  reopen(): void {
    for (const stream of this.files.values()) stream.end();
    this.files.clear();
    log('INFO', 'access logs reopened');
  }

  close(): Promise<void> {
    const closing = [...this.files.values()].map((s) => new Promise<void>((resolve) => s.end(resolve)));
    this.files.clear();
    return Promise.all(closing).then(() => undefined);
  }

  private open(path: string): WriteStream {
    let stream = this.files.get(path);
    if (stream === undefined) {
      stream = createWriteStream(path, { flags: 'a' });
      stream.on('error', (err) => {
        log('ERROR', 'access log write failed', { path, error: err.message });
        this.files.delete(path);
      });
      this.files.set(path, stream);
    }
    return stream;
  }
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
