/**
 * Copies of body bytes that arrived before the listener attached its sink
 * (typically the body that came in the same read as the response head),
 * packed into reusable 64 KiB buffers: once a sink that copies what it keeps
 * has taken them, the buffers go back to a small free list. A fresh
 * ArrayBuffer per response instead (64 KiB for a 64 KiB body) drives V8 into
 * a major GC every few hundred responses through external-memory pressure.
 */
const HELD_SIZE = 64 * 1024;
/** At most this many idle buffers per thread (1 MiB). */
const MAX_IDLE = 16;
const idle: ArrayBuffer[] = [];

/** One response's held bytes: many small pieces (chunked framing) share a buffer. */
export class HeldBytes {
  private readonly buffers: ArrayBuffer[] = [];
  private current: ArrayBuffer | null = null;
  private fill = 0;

  /** `chunk`'s bytes, copied into this response's buffers. */
  copy(chunk: Buffer): Buffer {
    if (chunk.length > HELD_SIZE) return Buffer.from(chunk);
    let memory = this.current;
    if (memory === null || this.fill + chunk.length > HELD_SIZE) {
      memory = idle.pop() ?? new ArrayBuffer(HELD_SIZE);
      this.buffers.push(memory);
      this.current = memory;
      this.fill = 0;
    }
    const held = Buffer.from(memory, this.fill, chunk.length);
    chunk.copy(held);
    this.fill += chunk.length;
    return held;
  }

  /** Gives the memory back; nothing may touch the copies afterwards. */
  release(): void {
    for (const memory of this.buffers) if (idle.length < MAX_IDLE) idle.push(memory);
    this.buffers.length = 0;
    this.current = null;
  }
}
