import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { BasicAuthCheck } from '../../src/dataplane/filters/validator/basic-auth-check';
import { unknownUserHash } from '../../src/dataplane/filters/validator/dummy-hash';
import { closeOffloadPools } from '../../src/dataplane/offload/offload-pool';
import { validatorSchema } from '../../src/dataplane/filters/validator/schema';
import { checked, makeContext } from '../helpers/context';

const sha = (p: string): string => `{SHA}${createHash('sha1').update(p).digest('base64')}`;
const basic = (u: string, p: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

/** An unknown user name is checked against a dummy hash as costly as the costliest configured user's hash. */
describe('Validator basic auth: the unknown-user dummy hash', () => {
  const opened: BasicAuthCheck[] = [];
  const checkFor = (users: Record<string, string>): BasicAuthCheck => {
    const spec = checked(validatorSchema, { name: 'v', kind: 'Validator', basicAuth: { users } }).basicAuth;
    assert.ok(spec);
    const check = new BasicAuthCheck(spec);
    opened.push(check);
    return check;
  };
  after(async () => {
    for (const c of opened) c.close();
    await closeOffloadPools();
  });

  it('takes the highest bcrypt cost among the configured users, whatever their order', () => {
    const low = bcrypt.hashSync('a', 4);
    const high = bcrypt.hashSync('b', 6);
    for (const users of [{ a: low, b: high }, { b: high, a: low }, { b: high }] as Record<string, string>[]) {
      const check = checkFor(users);
      assert.equal(bcrypt.getRounds(check.dummyHash), 6, JSON.stringify(Object.keys(users)));
      assert.match(check.dummyHash, /^\$2b\$06\$[./A-Za-z0-9]{53}$/);
    }
    assert.equal(bcrypt.getRounds(checkFor({ a: low }).dummyHash), 4);
    // Costs are not hashed at load time: a cost-31 user only changes the dummy's cost field.
    assert.equal(unknownUserHash([low, low.replace('$04$', '$31$')]).slice(0, 7), '$2b$31$');
    assert.equal(unknownUserHash([low.replace('$04$', '$12$'), sha('x')]).slice(0, 7), '$2b$12$', 'bcrypt wins over {SHA} when both are in use');
  });

  it('uses a {SHA} dummy when no user has a bcrypt hash, and never accepts an unknown user', async () => {
    const check = checkFor({ bob: sha('s3cret') });
    assert.match(check.dummyHash, /^\{SHA\}[A-Za-z0-9+/]{27}=$/);
    assert.equal(check.check(makeContext({ headers: basic('bob', 's3cret') })), null);
    for (const password of ['', 's3cret', 'x']) {
      const failure = check.check(makeContext({ headers: basic('mallory', password) }));
      assert.equal((failure as { code: string } | null)?.code, 'NGATE_ERR_UNAUTHORIZED', password);
    }
  });

  it('refuses an unknown user against the bcrypt dummy and accepts the known one', async () => {
    const check = checkFor({ alice: bcrypt.hashSync('wonderland', 4) });
    assert.equal(await check.check(makeContext({ headers: basic('alice', 'wonderland') })), null);
    const failure = await check.check(makeContext({ headers: basic('mallory', 'wonderland') }));
    assert.equal(failure?.code, 'NGATE_ERR_UNAUTHORIZED');
  });

  it('refuses bcrypt costs bcrypt cannot run (below 04, above 31) at validation', () => {
    const hash = bcrypt.hashSync('a', 4);
    for (const cost of ['03', '32', '99']) {
      const issues: { path: (string | number)[]; message: string }[] = [];
      assert.equal(validatorSchema.check({ name: 'v', kind: 'Validator', basicAuth: { users: { a: hash.replace('$04$', `$${cost}$`) } } }, [], issues), undefined, cost);
      assert.match(issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'), /basicAuth\.users\.a: .*cost 04-31/);
    }
  });
});
