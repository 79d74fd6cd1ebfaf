import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompiledConfig } from '../src/config/compiled';
import { SlotAllocator } from '../src/control/slot-allocator';
import { catalogOf } from '../src/control/stats/catalog';
import { PoolFilter } from '../src/dataplane/filters/proxy/pool-filter';
import { poolFilterSchema, proxySchema } from '../src/dataplane/filters/proxy/schema';
import { Share } from '../src/dataplane/filters/proxy/share';
import { SLOTS_KEY, type PoolSlots } from '../src/shared/sab-layout';
import { checked, makeContext } from './helpers/context';

function poolFilter(spec: Record<string, unknown>): PoolFilter {
  return new PoolFilter(checked(poolFilterSchema, spec));
}

describe('candidate pool filter', () => {
  it('matches every listed header, by values or regexp, names case-insensitive', () => {
    const f = poolFilter({ headers: { 'X-Canary': { values: ['yes', 'true'] }, 'user-agent': { regexp: '^beta/' } } });
    assert.ok(f.matches(makeContext({ headers: { 'x-canary': 'true', 'user-agent': 'beta/1.0' } })));
    assert.ok(!f.matches(makeContext({ headers: { 'x-canary': 'true', 'user-agent': 'stable/1.0' } })));
    assert.ok(!f.matches(makeContext({ headers: { 'x-canary': 'no', 'user-agent': 'beta/1.0' } })));
    assert.ok(!f.matches(makeContext({ headers: { 'user-agent': 'beta/1.0' } })));
  });

  it('takes exactly the percentage with spread, interleaved', () => {
    const f = poolFilter({ percentage: 20 });
    const taken = Array.from({ length: 1000 }, () => f.matches(makeContext())).filter(Boolean).length;
    assert.equal(taken, 200);
    const s = new Share(50);
    assert.deepEqual(Array.from({ length: 4 }, () => s.take(makeContext())), [false, true, false, true]);
    assert.ok(!new Share(0).take(makeContext()));
    assert.ok(new Share(100).take(makeContext()));
  });

  it('applies the percentage to the requests the headers matched only', () => {
    const f = poolFilter({ headers: { 'x-beta': { values: ['1'] } }, percentage: 50 });
    let taken = 0;
    for (let i = 0; i < 100; i++) {
      assert.ok(!f.matches(makeContext()));
      if (f.matches(makeContext({ headers: { 'x-beta': '1' } }))) taken++;
    }
    assert.equal(taken, 50);
  });

  it('hashes a key for a sticky percentage: the same client always gets the same answer, the share holds over many', () => {
    const byIp = poolFilter({ percentage: 20, percentageBy: 'ip' });
    let taken = 0;
    for (let i = 0; i < 1000; i++) {
      const ip = `10.${(i >> 8) & 255}.${i & 255}.7`;
      const first = byIp.matches(makeContext({ remote: ip }));
      assert.equal(byIp.matches(makeContext({ remote: ip })), first, ip);
      if (first) taken++;
    }
    assert.ok(taken >= 150 && taken <= 250, `${taken} of 1000 at 20%`);
    const byHeader = poolFilter({ percentage: 100, percentageBy: 'header', percentageKey: 'x-user' });
    assert.ok(byHeader.matches(makeContext({ headers: { 'x-user': 'u1' } })));
    assert.ok(!byHeader.matches(makeContext()), 'a request without the key is not taken');
  });

  it('refuses a filter with neither headers nor percentage, a header match with both forms, a hash without its key', () => {
    assert.throws(() => poolFilter({}), /give headers, percentage or both/);
    assert.throws(() => poolFilter({ headers: { a: { values: ['1'], regexp: 'x' } } }), /exactly one of values or regexp/);
    assert.throws(() => poolFilter({ percentage: 10, percentageBy: 'cookie' }), /percentageKey/);
    assert.throws(() => poolFilter({ percentage: 101 }), /percentage/);
  });
});

describe('Proxy pools[]: the Easegress v2 shape', () => {
  function check(raw: Record<string, unknown>): { value: unknown; issues: { path: (string | number)[]; message: string }[] } {
    const issues: { path: (string | number)[]; message: string }[] = [];
    return { value: proxySchema.check({ name: 'proxy', kind: 'Proxy', ...raw }, [], issues), issues };
  }

  it('makes the pool without filter the main pool and the others candidates, in order', () => {
    const { value, issues } = check({
      pools: [
        { filter: { percentage: 5 }, servers: [{ url: 'http://127.0.0.1:2' }] },
        { servers: [{ url: 'http://127.0.0.1:1' }] },
        { filter: { headers: { 'x-b': { values: ['1'] } } }, servers: [{ url: 'http://127.0.0.1:3' }] },
      ],
    });
    assert.deepEqual(issues, []);
    const spec = value as { mainPool: { servers: { url: string }[] }; candidatePools: { servers: { url: string }[] }[] };
    assert.equal(spec.mainPool.servers[0]?.url, 'http://127.0.0.1:1');
    assert.deepEqual(spec.candidatePools.map((c) => c.servers[0]?.url), ['http://127.0.0.1:2', 'http://127.0.0.1:3']);
  });

  it('needs exactly one main pool, refuses mixing both shapes, and reports issues at pools[i]', () => {
    assert.match(check({ pools: [{ filter: { percentage: 5 }, servers: [{ url: 'http://127.0.0.1:2' }] }] }).issues[0]?.message ?? '', /exactly one pool must have no filter/);
    assert.match(check({ pools: [{ servers: [{ url: 'http://127.0.0.1:2' }] }], mainPool: { servers: [{ url: 'http://127.0.0.1:2' }] } }).issues[0]?.message ?? '', /not both/);
    const bad = check({ pools: [{ servers: [{ url: 'http://127.0.0.1:1' }] }, { filter: { percentage: 5 }, servers: [{ url: 'nope' }] }] });
    assert.equal(bad.value, undefined);
    assert.deepEqual(bad.issues[0]?.path, ['pools', 1, 'servers', 0, 'url']);
  });
});

describe('Proxy pools as services', () => {
  const spec = checked(proxySchema, {
    name: 'proxy',
    kind: 'Proxy',
    mainPool: { servers: [{ url: 'http://127.0.0.1:1' }] },
    candidatePools: [
      { filter: { percentage: 10 }, servers: [{ url: 'http://127.0.0.1:2' }] },
      { serviceName: 'beta', filter: { headers: { 'x-beta': { values: ['1'] } } }, servers: [{ url: 'http://127.0.0.1:3' }, { url: 'http://127.0.0.1:4' }] },
    ],
    mirrorPool: { servers: [{ url: 'http://127.0.0.1:5' }], percentage: 50 },
  });
  const compiled: CompiledConfig = { generation: 1, servers: [], pipelines: [{ name: 'p', steps: [{ filter: 0, jumpIf: {} }], filters: [{ name: 'proxy', kind: 'Proxy', spec }] }] };

  it('gives the mirror pool its defaults', () => {
    assert.equal(spec.mirrorPool?.maxBodySize, 1 << 20);
    assert.equal(spec.candidatePools?.[0]?.filter.percentageBy, 'spread');
  });

  it('assigns every pool its own service and endpoint slots, and the catalog lists each with its endpoints', () => {
    const assigned = new SlotAllocator().assign(compiled);
    const out = assigned.pipelines[0]?.filters[0]?.spec as Record<string, unknown>;
    const main = out[SLOTS_KEY] as PoolSlots;
    const c0 = (out.candidatePools as Record<string, unknown>[])[0]?.[SLOTS_KEY] as PoolSlots;
    const c1 = (out.candidatePools as Record<string, unknown>[])[1]?.[SLOTS_KEY] as PoolSlots;
    const mirror = (out.mirrorPool as Record<string, unknown>)[SLOTS_KEY] as PoolSlots;
    const services = [main.service, c0.service, c1.service, mirror.service];
    assert.equal(new Set(services).size, 4);
    assert.equal(new Set([...main.endpoints, ...c0.endpoints, ...c1.endpoints, ...mirror.endpoints]).size, 5);
    const catalog = catalogOf(assigned);
    assert.deepEqual(
      catalog.services.map((s) => [s.name, s.slot, s.endpoints.map((e) => e.url)]),
      [
        ['p/proxy', main.service, ['http://127.0.0.1:1']],
        ['p/proxy/candidate-0', c0.service, ['http://127.0.0.1:2']],
        ['beta', c1.service, ['http://127.0.0.1:3', 'http://127.0.0.1:4']],
        ['p/proxy/mirror', mirror.service, ['http://127.0.0.1:5']],
      ],
    );
    // The checked spec itself is not changed by the assignment.
    assert.equal((spec.candidatePools?.[0] as Record<string, unknown>)[SLOTS_KEY], undefined);
  });
});
