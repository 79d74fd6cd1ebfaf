/** Offload task: parse a large JSON body and validate it against a JSON Schema, off the proxy worker's event loop. */
import type { ValidateFunction } from 'ajv';
import { jsonSchemaAjv } from '../filters/validator/json-schema-ajv';
import { jsonVerdict } from '../filters/validator/json-verdict';

export interface JsonSchemaTask {
  /** Names the schema (a digest of its JSON text): each thread compiles a schema once. */
  readonly key: string;
  readonly schema: string;
  readonly body: Uint8Array;
}

/** Schemas compiled in this thread; a config with more Validators than this recompiles now and then. */
const LIMIT = 64;
const compiled = new Map<string, ValidateFunction>();

function validatorFor(task: JsonSchemaTask): ValidateFunction {
  let validate = compiled.get(task.key);
  if (validate === undefined) {
    if (compiled.size >= LIMIT) compiled.clear();
    validate = jsonSchemaAjv().compile(JSON.parse(task.schema) as Record<string, unknown>);
    compiled.set(task.key, validate);
  }
  return validate;
}

/** The 400 detail, or null when the body is valid. */
export default function validate(task: JsonSchemaTask): string | null {
  const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
  return jsonVerdict(validatorFor(task), body);
}
