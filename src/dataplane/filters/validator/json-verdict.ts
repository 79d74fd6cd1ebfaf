import type { ValidateFunction } from 'ajv';

/**
 * The verdict on a JSON body: null when it parses and matches, else the
 * detail for the 400. One function for the worker thread and the offload
 * task, so both paths answer with the same text.
 */
export function jsonVerdict(validate: ValidateFunction, body: Buffer): string | null {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return `body is not JSON: ${(err as Error).message}`;
  }
  if (validate(doc)) return null;
  const first = validate.errors?.[0];
  const where = first === undefined || first.instancePath === '' ? 'body' : `body${first.instancePath}`;
  return `${where} ${first?.message ?? 'does not match the schema'}`;
}
