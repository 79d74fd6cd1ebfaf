import Ajv from 'ajv';
import addFormats, { type FormatName } from 'ajv-formats';

/**
 * The `format` values a Validator's jsonSchema may use (ajv-formats, full
 * mode). `url` is left out: its pattern backtracks quadratically (a 20 kB
 * string costs a second), and `uri` is the standard format for the purpose.
 */
export const SUPPORTED_FORMATS: readonly FormatName[] = [
  'date', 'time', 'date-time', 'iso-time', 'iso-date-time', 'duration',
  'uri', 'uri-reference', 'uri-template', 'email', 'hostname', 'ipv4', 'ipv6',
  'regex', 'uuid', 'json-pointer', 'json-pointer-uri-fragment', 'relative-json-pointer',
  'byte', 'int32', 'int64', 'float', 'double', 'password', 'binary',
];

/** The one Ajv set-up shared by config validation, the worker and the offload threads, so all three agree. */
export function jsonSchemaAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true });
  addFormats(ajv, { mode: 'full', formats: [...SUPPORTED_FORMATS], keywords: true });
  return ajv;
}

/** A schema compile error in words a config author can act on (ajv says "unknown format ... ignored" and refuses anyway). */
export function schemaCompileMessage(err: Error): string {
  const unknown = /^unknown format "([^"]*)" ignored in schema at path "([^"]*)"/.exec(err.message);
  if (unknown === null) return `invalid JSON Schema: ${err.message}`;
  return `format "${unknown[1]}" (at ${unknown[2]}) is not supported; supported formats: ${SUPPORTED_FORMATS.join(', ')}`;
}
