import type { Socket } from 'node:net';

/** How long a closing connection waits for more of the client's bytes before it is dropped (nginx's lingering_timeout). */
export const LINGER_READ_MS = 5_000;
/** The longest a closing connection lingers at all (nginx's lingering_time). */
export const LINGER_TOTAL_MS = 30_000;

function drop(): void {}

/**
 * Closes a connection whose client may still be sending (an upload the
 * answer did not wait for) without losing the answer: closing a socket with
 * unread bytes makes the kernel send RST, and the client's kernel then drops
 * whatever of the answer its application has not read yet. So: FIN after
 * the answer, then read and drop what still comes until the client closes,
 * goes quiet for LINGER_READ_MS, or LINGER_TOTAL_MS passed (nginx's
 * lingering_close).
 */
export function lingeringClose(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  const total = setTimeout(() => socket.destroy(), LINGER_TOTAL_MS);
  total.unref();
  socket.setTimeout(LINGER_READ_MS, () => socket.destroy());
  socket.once('close', () => clearTimeout(total));
  socket.once('end', () => socket.destroy());
  socket.on('data', drop);
  socket.resume();
}
