import type { BodySink, StreamedBody } from '../context';

export type Collected = Buffer | 'too-large' | 'failed';

/** A sink that keeps the chunks until the end, or gives up past the limit (cancelling the upstream). */
class CollectSink implements BodySink {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;

  constructor(
    private readonly body: StreamedBody,
    private readonly limit: number,
    private readonly settle: (c: Collected) => void,
  ) {}

  write(chunk: Buffer): boolean {
    if (this.settled) return false;
    this.size += chunk.length;
    if (this.size > this.limit) {
      this.done('too-large');
      this.body.cancel();
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  end(): void {
    if (this.settled) return;
    this.done(this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size));
  }

  abort(): void {
    this.done('failed');
  }

  private done(c: Collected): void {
    if (this.settled) return;
    this.settled = true;
    this.chunks.length = 0;
    this.settle(c);
  }
}

/**
 * Reads a streamed (upstream) response body into memory, at most `limit`
 * bytes: 'too-large' (the upstream exchange is cancelled) past it, 'failed'
 * when the upstream broke off or the client went away.
 */
export function collectStreamedBody(body: StreamedBody, limit: number): Promise<Collected> {
  if (body.length > limit) {
    body.cancel();
    return Promise.resolve('too-large');
  }
  return new Promise<Collected>((resolve) => body.pipeTo(new CollectSink(body, limit, resolve)));
}
