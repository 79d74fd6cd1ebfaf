/** Offload task: one bcrypt comparison, off the proxy worker's event loop (bcryptjs is pure JavaScript and slow by design). */
import bcrypt from 'bcryptjs';

export default function compare(task: { password: string; hash: string }): Promise<boolean> {
  return bcrypt.compare(task.password, task.hash);
}
