import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { ValidatorFilter } from '../../src/dataplane/filters/validator/filter';
import { validatorSchema } from '../../src/dataplane/filters/validator/schema';
import { checked, makeContext } from '../helpers/context';

function refusedWith(raw: Record<string, unknown>): string {
  const issues: { path: (string | number)[]; message: string }[] = [];
  assert.equal(validatorSchema.check({ name: 'v', kind: 'Validator', ...raw }, [], issues), undefined);
  return issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}

const FORMATS: [string, string, string][] = [
  ['email', 'a.b+c@example.com', 'not-an-email'],
  ['uri', 'https://example.com/a?b=1', 'no scheme'],
  ['date-time', '2024-02-29T12:00:00Z', '2024-02-30T12:00:00Z'],
  ['date', '2024-02-29', '2023-02-29'],
  ['uuid', '123e4567-e89b-12d3-a456-426614174000', '123e4567-e89b-12d3-a456'],
  ['ipv4', '192.0.2.1', '192.0.2.256'],
  ['ipv6', '2001:db8::1', '2001:db8:::1'],
  ['hostname', 'api.example.com', 'bad_host!'],
];

async function verdict(v: ValidatorFilter, doc: unknown): Promise<{ result: string; body: string }> {
  const ctx = makeContext({ method: 'POST' });
  ctx.body = Readable.from([Buffer.from(JSON.stringify(doc))]);
  ctx.bodyLength = -1;
  const result = await v.handle(ctx);
  return { result, body: String(ctx.responseBody) };
}

describe('Validator jsonSchema: standard formats', () => {
  it('accepts schemas using the standard formats and checks values against them', async () => {
    for (const [format, good, bad] of FORMATS) {
      const v = new ValidatorFilter('v', checked(validatorSchema, { name: 'v', kind: 'Validator', jsonSchema: { type: 'object', properties: { f: { type: 'string', format } } } }));
      assert.equal((await verdict(v, { f: good })).result, '', `${format} ${good}`);
      const refused = await verdict(v, { f: bad });
      assert.equal(refused.result, 'invalid', `${format} ${bad}`);
      assert.match(refused.body, new RegExp(`body/f must match format \\\\"${format}\\\\"`));
    }
  });

  it('refuses an unsupported format at validation with a message that says so', () => {
    for (const format of ['foo', 'url']) {
      const message = refusedWith({ jsonSchema: { type: 'object', properties: { f: { type: 'string', format } } } });
      assert.match(message, new RegExp(`^jsonSchema: format "${format}" \\(at #/properties/f\\) is not supported; supported formats: date, time, date-time`));
      assert.doesNotMatch(message, /ignored/);
    }
    assert.match(refusedWith({ jsonSchema: { type: 'nonsense' } }), /^jsonSchema: invalid JSON Schema: /);
  });
});
