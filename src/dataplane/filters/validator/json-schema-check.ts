import Ajv, { type ValidateFunction } from 'ajv';
import { bufferRequestBody } from '../../body/buffer-request-body';
import type { RequestContext } from '../../context';
import type { CheckFailure, RequestCheck } from './check';

/** The body is JSON valid against a JSON Schema compiled once per config generation. */
export class JsonSchemaCheck implements RequestCheck {
  private readonly validate: ValidateFunction;

  constructor(
    schema: Record<string, unknown>,
    private readonly maxBodySize: number,
  ) {
    this.validate = new Ajv({ allErrors: true }).compile(schema);
  }

  async check(ctx: RequestContext): Promise<CheckFailure | null> {
    const body = await bufferRequestBody(ctx, this.maxBodySize);
    if (body === 'too-large') return { code: 'NGATE_ERR_BODY_TOO_LARGE', detail: `the Validator buffers at most ${this.maxBodySize} bytes` };
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return { code: 'NGATE_ERR_VALIDATION', detail: `body is not JSON: ${(err as Error).message}` };
    }
    if (this.validate(doc)) return null;
    const first = this.validate.errors?.[0];
    const where = first === undefined || first.instancePath === '' ? 'body' : `body${first.instancePath}`;
    return { code: 'NGATE_ERR_VALIDATION', detail: `${where} ${first?.message ?? 'does not match the schema'}` };
  }
}
