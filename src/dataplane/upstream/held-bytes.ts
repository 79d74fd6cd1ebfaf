/**
 * Copies of body bytes that arrived before the listener attached its sink
 * (typically the body that came in the same read as the response head), in
 * reusable buffers: once a sink that copies what it keeps has taken them they
 * go back to a small free list. A fresh ArrayBuffer per response instead
 * (64 KiB for a 64 KiB body) drives V8 into a major GC every few hundred
 * responses through external-memory pressure.
 */
const HELD_SIZE = 64 * 1024;
/** At most this many idle buffers per thread (1 MiB). */
const MAX_IDLE = 16;
const idle: ArrayBuffer[] = [];

/** `chunk`'s bytes in a buffer of the free list (a fresh one when the list is empty or the chunk is larger). */
export function holdCopy(chunk: Buffer): Buffer {
  if (chunk.length > HELD_SIZE) return Buffer.from(chunk);
  const held = Buffer.from(idle.pop() ?? new ArrayBuffer(HELD_SIZE), 0, chunk.length);
  chunk.copy(held);
  return held;
}

/** Gives a held copy's memory back; the caller must not touch `held` again. */
export function release(held: Buffer): void {
  const memory = held.buffer;
  if (memory.byteLength === HELD_SIZE && idle.length < MAX_IDLE && memory instanceof ArrayBuffer) idle.push(memory);
}
