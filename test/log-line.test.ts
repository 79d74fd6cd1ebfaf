import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { log } from '../src/shared/log';

/** Captures what `log` writes to stderr during `fn`. */
function captured(fn: () => void): string {
  const write = process.stderr.write.bind(process.stderr);
  let out = '';
  process.stderr.write = ((chunk: string | Uint8Array): boolean => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return out;
}

describe('operator log lines', () => {
  it('one event is one line, even when the message holds a stack trace', () => {
    const err = new Error('boom');
    const out = captured(() => log('ERROR', `engine failed: ${err.stack ?? ''}`, { code: 70 }));
    assert.equal(out.split('\n').length, 2, 'one line and its newline');
    assert.match(out, /^\S+Z ERROR engine failed: Error: boom\\n {4}at .* code=70\n$/);
  });

  it('CR and CRLF are escaped too; a plain message is unchanged', () => {
    assert.match(captured(() => log('WARN', 'a\r\nb\rc')), / WARN a\\nb\\nc\n$/);
    assert.match(captured(() => log('INFO', 'ngate ready', { pid: 1 })), /^\S+Z INFO ngate ready pid=1\n$/);
  });
});
