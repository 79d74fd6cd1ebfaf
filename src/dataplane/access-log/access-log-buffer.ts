/**
 * A worker's access log lines on their way to the coordinator, which owns the
 * files. Lines are batched and sent every `FLUSH_MS` or once a batch is large,
 * so logging costs a string append per request and one message per batch;
 * a worker never waits for a disk.
 */
const FLUSH_MS = 200;
const FLUSH_BYTES = 64 * 1024;

export type SendBatch = (target: string, text: string) => void;

export class AccessLogBuffer {
  private readonly pending = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly send: SendBatch) {}

  add(target: string, line: string): void {
    const text = (this.pending.get(target) ?? '') + line + '\n';
    if (text.length >= FLUSH_BYTES) {
      this.pending.delete(target);
      this.send(target, text);
      return;
    }
    this.pending.set(target, text);
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const [target, text] of this.pending) this.send(target, text);
    this.pending.clear();
  }
}
