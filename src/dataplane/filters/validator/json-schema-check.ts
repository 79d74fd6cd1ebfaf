import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { bufferRequestBody } from '../../body/buffer-request-body';
import type { RequestContext } from '../../context';
import { acquireOffloadPool, OFFLOAD_TASKS, OffloadQueueFull, runOffload, type OffloadLease } from '../../offload/offload-pool';
import type { JsonSchemaTask } from '../../offload/json-schema-task';
import type { CheckFailure, RequestCheck } from './check';
import { jsonSchemaAjv } from './json-schema-ajv';
import { jsonVerdict } from './json-verdict';

/**
 * The body is JSON valid against a JSON Schema compiled once per config
 * generation. Bodies larger than `offloadAbove` are parsed and validated on
 * the worker's offload pool, so a large document (or a costly schema) never
 * holds up the other requests of the worker; smaller ones stay in-thread,
 * where a task round trip would cost more than the validation.
 */
export class JsonSchemaCheck implements RequestCheck {
  private readonly validate: ValidateFunction;
  private readonly schemaText: string;
  private readonly key: string;
  private readonly lease: OffloadLease | null;

  constructor(
    schema: Record<string, unknown>,
    private readonly maxBodySize: number,
    private readonly offloadAbove: number,
  ) {
    this.validate = jsonSchemaAjv().compile(schema);
    this.schemaText = JSON.stringify(schema);
    this.key = createHash('sha256').update(this.schemaText).digest('base64');
    // No thread when no body that fits under maxBodySize can reach the threshold.
    this.lease = offloadAbove < maxBodySize ? acquireOffloadPool(1) : null;
  }

  close(): void {
    this.lease?.release();
  }

  async check(ctx: RequestContext): Promise<CheckFailure | null> {
    const body = await bufferRequestBody(ctx, this.maxBodySize);
    if (body === 'too-large') return { code: 'NGATE_ERR_BODY_TOO_LARGE', detail: `the Validator buffers at most ${this.maxBodySize} bytes` };
    const detail = this.lease !== null && body.length > this.offloadAbove ? await this.offload(this.lease, body) : jsonVerdict(this.validate, body);
    if (typeof detail !== 'string') return detail;
    return { code: 'NGATE_ERR_VALIDATION', detail };
  }

  private offload(lease: OffloadLease, body: Buffer): Promise<string | null | CheckFailure> {
    // The body is copied to the thread, not moved: later filters and the Proxy still send it.
    const task: JsonSchemaTask = { key: this.key, schema: this.schemaText, body };
    return runOffload<string | null>(lease.pool, task, { filename: OFFLOAD_TASKS.jsonSchema }).then(
      (detail) => detail,
      (err: Error): CheckFailure => ({ code: err instanceof OffloadQueueFull ? 'NGATE_ERR_POOL_OVERFLOW' : 'NGATE_ERR_INTERNAL', detail: `body validation failed: ${err.message}` }),
    );
  }
}
