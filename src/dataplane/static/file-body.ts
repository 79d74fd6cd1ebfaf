import { close, read } from 'node:fs';
import type { BodySink, StreamedBody } from '../context';

const CHUNK = 64 * 1024;

/**
 * A byte range of an open file as a response body, read in 64 KiB chunks
 * with backpressure: the next read starts only when the sink took the last
 * chunk (or calls `resume`), so a large file never sits in memory. Owns the
 * descriptor and closes it on end, error or cancel.
 */
export class FileBody implements StreamedBody {
  private sink: BodySink | null = null;
  private position: number;
  private remaining: number;
  private reading = false;
  private paused = false;
  private fd: number;

  constructor(
    fd: number,
    start: number,
    readonly length: number,
  ) {
    this.fd = fd;
    this.position = start;
    this.remaining = length;
  }

  pipeTo(sink: BodySink): void {
    this.sink = sink;
    if (this.remaining === 0) {
      this.release();
      sink.end();
      return;
    }
    this.pump();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pump();
  }

  cancel(): void {
    this.sink = null;
    if (!this.reading) this.release();
  }

  private pump(): void {
    if (this.reading || this.fd < 0 || this.sink === null) return;
    this.reading = true;
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, this.remaining));
    read(this.fd, buf, 0, buf.length, this.position, (err, n) => {
      this.reading = false;
      const sink = this.sink;
      if (sink === null) return this.release();
      if (err !== null || n === 0) {
        // Read error or the file shrank under us: the announced length cannot be met.
        this.release();
        this.sink = null;
        return sink.abort();
      }
      this.position += n;
      this.remaining -= n;
      const more = sink.write(n === buf.length ? buf : buf.subarray(0, n));
      if (this.remaining === 0) {
        this.release();
        this.sink = null;
        return sink.end();
      }
      if (more) this.pump();
      else this.paused = true;
    });
  }

  private release(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    close(fd, () => undefined);
  }
}

/** A body of known length that is never sent (HEAD): the listener writes Content-Length from it. */
export class LengthOnlyBody implements StreamedBody {
  constructor(readonly length: number) {}
  pipeTo(sink: BodySink): void {
    sink.end();
  }
  resume(): void {}
  cancel(): void {}
}
