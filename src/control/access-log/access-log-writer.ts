/**
 * The coordinator's access log files: one append stream per target path
 * ('stdout' writes to standard output). SIGUSR1 reopens every file, after
 * logrotate moved it. When a disk (or the reader of stdout) cannot keep up,
 * lines beyond `MAX_PENDING_BYTES` are dropped and counted rather than held
 * without bound. A file that cannot be opened (no such directory, no
 * permission) is tried again every `REOPEN_MS`; its lines meanwhile are
 * dropped and counted, and the error is logged once per failure, not per batch.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { log } from '../../shared/log';

const MAX_PENDING_BYTES = 16 * 1024 * 1024;
export const REOPEN_MS = 5_000;

export class AccessLogWriter {
  private readonly files = new Map<string, WriteStream>();
  /** Paths whose open failed, with when to try again. */
  private readonly failed = new Map<string, number>();
  /** Lines written to a file stream not open yet: lost, and counted, if the open fails. */
  private readonly unopened = new Map<WriteStream, number>();
  /** Lines dropped since start (backlog over the bound, or a file that could not be opened): server.access_log_dropped. */
  dropped = 0;

  write(target: string, text: string): void {
    const retryAt = this.failed.get(target);
    if (retryAt !== undefined) {
      if (Date.now() < retryAt) {
        this.dropped += countLines(text);
        return;
      }
      this.failed.delete(target);
    }
    const stream = target === 'stdout' ? process.stdout : this.open(target);
    if (stream.writableLength > MAX_PENDING_BYTES) {
      if (this.dropped === 0) log('WARN', 'access log cannot keep up, dropping lines', { path: target });
      this.dropped += countLines(text);
      return;
    }
    const waiting = this.unopened.get(stream as WriteStream);
    if (waiting !== undefined) this.unopened.set(stream as WriteStream, waiting + countLines(text));
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
      const opening = createWriteStream(path, { flags: 'a' });
      this.unopened.set(opening, 0);
      opening.once('ready', () => this.unopened.delete(opening));
      opening.on('error', (err) => {
        const lost = this.unopened.get(opening);
        this.unopened.delete(opening);
        if (lost !== undefined) {
          this.dropped += lost;
          this.failed.set(path, Date.now() + REOPEN_MS);
        }
        if (lost === undefined) log('ERROR', 'access log write failed', { path, error: err.message });
        else log('ERROR', 'access log cannot be opened, dropping its lines', { path, error: err.message, retryMs: REOPEN_MS });
        if (this.files.get(path) === opening) this.files.delete(path);
      });
      this.files.set(path, opening);
      stream = opening;
    }
    return stream;
  }
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
