import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scriptLoadProblem } from '../src/dataplane/filters/script/load-check';
import { ScriptSandbox } from '../src/dataplane/filters/script/script-sandbox';

/**
 * Every way a script has been seen to reach the host realm. Each script
 * tries its vector and reports: 'ESCAPED' (it got the real `process`),
 * or what it got instead. The sandbox runs in this process, so an escape
 * would find this test's own pid.
 */
const REPORT = `
  const verdict = (get) => {
    try {
      const P = get();
      return P !== null && typeof P === 'object' && P.pid === ${process.pid} ? 'ESCAPED' : 'got ' + typeof P;
    } catch (e) {
      return 'refused';
    }
  };
`;

async function body(code: string, input: unknown = { method: 'GET', path: '/', query: '', headers: { a: 'b' }, remoteAddress: '127.0.0.1', body: null }): Promise<string> {
  const sandbox = ScriptSandbox.load(REPORT + code);
  const out = (await sandbox.call('request', input)) as { body?: unknown };
  return String(out.body);
}

function assertContained(result: string): void {
  assert.notEqual(result, 'ESCAPED');
  assert.match(result, /^(refused|got undefined|got object|got function|got string)/);
}

describe('Script sandbox: nothing of the host realm is reachable', () => {
  it("the reported escape: the global's constructor chain", async () => {
    const r = await body(`module.exports = (req) => ({ body: verdict(() => this.constructor.constructor('return process')()) });`);
    assert.equal(r, 'refused');
  });

  it('module, exports, the request object and its headers are the context’s own', async () => {
    for (const expr of ['module', 'exports', 'req', 'req.headers', 'console', 'console.log', 'JSON', 'Math', 'Date']) {
      const r = await body(`const m = module; const x = exports; module.exports = (req) => ({ body: verdict(() => ((v) => v.constructor.constructor('return process')())(${expr === 'module' ? 'm' : expr === 'exports' ? 'x' : expr})) });`);
      assert.equal(r, 'refused', expr);
    }
  });

  it('eval, Function and WebAssembly refuse to generate code', async () => {
    for (const expr of ["eval('process')", "Function('return process')()", "(async function(){}).constructor('return process')", 'new WebAssembly.Module(new Uint8Array([0,97,115,109,1,0,0,0]))']) {
      assert.equal(await body(`module.exports = () => ({ body: verdict(() => ${expr}) });`), 'refused', expr);
    }
  });

  it('no require, process, timers, host URL classes or globals leaking from the host', async () => {
    const r = await body(
      `module.exports = () => ({ body: [typeof require, typeof process, typeof setTimeout, typeof setImmediate, typeof queueMicrotask, typeof URL, typeof Buffer, typeof globalThis.process, typeof global].join(',') });`,
    );
    assert.equal(r, Array(9).fill('undefined').join(','));
    const proto = await body(`module.exports = () => ({ body: verdict(() => Object.getPrototypeOf(globalThis).constructor.constructor('return process')()) });`);
    assertContained(proto);
  });

  it('arguments.callee.caller gives nothing of the caller', async () => {
    const r = await body(`module.exports = function (req) { const c = arguments.callee.caller; return { body: c === null ? 'got null' : verdict(() => c.constructor.constructor('return process')()) }; };`);
    assert.equal(r, 'got null');
    const loading = await body(`const c = arguments.callee.caller; module.exports = () => ({ body: c === null ? 'got null' : verdict(() => c.constructor.constructor('return process')()) });`);
    assert.equal(loading, 'got null');
  });

  it('a stack-trace hook (which would see call sites of host frames) cannot be installed', async () => {
    const r = await body(`module.exports = function () {
      Error.prepareStackTrace = (e, frames) => frames;
      try { globalThis.Error = { prepareStackTrace: (e, frames) => frames }; } catch {}
      const stack = new Error('x').stack;
      return { body: typeof stack };
    };`);
    assert.equal(r, 'string');
  });

  it('errors the script catches are the context’s, even a stack overflow next to console.log', async () => {
    const r = await body(`module.exports = () => {
      const caught = [];
      const deep = (n) => { try { return deep(n + 1); } catch (e) { try { console.log('x'); } catch (e2) { caught.push(e2); } caught.push(e); return 0; } };
      deep(0);
      try { null.x; } catch (e) { caught.push(e); }
      try { JSON.parse('{'); } catch (e) { caught.push(e); }
      const seen = caught.map((e) => verdict(() => e.constructor.constructor('return process')()));
      return { body: seen.includes('ESCAPED') ? 'ESCAPED' : seen.every((v) => v === 'refused') ? 'refused' : seen.join(',') };
    };`);
    assert.equal(r, 'refused');
  });

  it('a console.log whose argument throws while printing hands nothing of the host back', async () => {
    const r = await body(`module.exports = () => {
      let caught = 'none';
      try { console.log({ toJSON() { throw new Error('no'); } }, 1n, Symbol('s')); } catch (e) { caught = e; }
      return { body: caught === 'none' ? 'got undefined' : verdict(() => caught.constructor.constructor('return process')()) };
    };`);
    assertContained(r);
  });

  it('an async script: the gateway follows its promise with the context’s own then, not one the script replaced', async () => {
    const code = `
      const captured = [];
      const then = Promise.prototype.then;
      Promise.prototype.then = function (a, b) { captured.push(a, b); return then.call(this, a, b); };
      Object.defineProperty(Promise.prototype, 'constructor', { value: class extends Promise { constructor(ex) { super((a, b) => { captured.push(a, b); ex(a, b); }); } }, configurable: true, writable: true });
      Object.prototype.then = undefined;
      module.exports = async (req) => {
        if (req.path === '/report') {
          const seen = captured.filter((f) => typeof f === 'function').map((f) => verdict(() => f.constructor.constructor('return process')()));
          return { body: seen.includes('ESCAPED') ? 'ESCAPED' : 'refused:' + seen.length };
        }
        return { body: 'first' };
      };`;
    const sandbox = ScriptSandbox.load(REPORT + code);
    const first = (await sandbox.call('request', { path: '/' })) as { body: string };
    assert.equal(first.body, 'first');
    const report = (await sandbox.call('request', { path: '/report' })) as { body: string };
    assert.match(report.body, /^refused:\d+$/);
  });

  it('a script returning a thenable gets only context functions', async () => {
    const r = await body(`module.exports = () => ({ then(ok, fail) { ok({ body: [ok, fail].map((f) => verdict(() => f.constructor.constructor('return process')())).join(',') }); } });`);
    assert.equal(r, 'refused,refused');
  });

  it('import() is refused before the script is compiled', () => {
    for (const code of ["module.exports = async () => { await import('fs'); };", "module.exports = () => import /* x */ ('fs').constructor.constructor('return process')();", "}); import('fs'); (function () {"]) {
      assert.throws(() => ScriptSandbox.load(code), /import\(\)|does not compile/, code);
    }
    // The word alone, as a property name or in a string, is fine.
    assert.doesNotThrow(() => ScriptSandbox.load("module.exports = (req) => ({ body: 'import(x)', setHeaders: { x: String(req.import) } });"));
  });

  it('a thrown error comes out as its message only, and the answer as plain data', async () => {
    await assert.rejects(ScriptSandbox.load("module.exports = () => { throw new Error('boom'); };").call('request', {}), { message: 'boom' });
    await assert.rejects(ScriptSandbox.load("module.exports = () => { const o = {}; o.o = o; return o; };").call('request', {}), /not JSON/);
    const out = await ScriptSandbox.load("module.exports = () => ({ status: 200, f() {} });").call('request', {});
    assert.deepEqual(out, { status: 200 });
    assert.equal(Object.getPrototypeOf(out), Object.prototype, 'the answer is a host object made by the host');
  });

  it('loading refuses a script exporting no function or throwing', () => {
    assert.throws(() => ScriptSandbox.load('const x = 1;'), /must export a function/);
    assert.throws(() => ScriptSandbox.load("throw new Error('at load');"), /threw while loading: at load/);
    assert.throws(() => ScriptSandbox.load("}); throw new Error('outside'); (function () {"), /threw while loading$/);
    assert.doesNotThrow(() => ScriptSandbox.load('exports.onResponse = () => ({});'));
  });

  it('the validation load check runs the script in a thread of its own, bounded in time', () => {
    assert.equal(scriptLoadProblem('module.exports = () => ({});', 5000), null);
    assert.match(scriptLoadProblem('const x = 1;', 5000) ?? '', /must export a function/);
    assert.match(scriptLoadProblem("module.exports = () => import('fs');", 5000) ?? '', /import\(\)/);
    const started = Date.now();
    assert.match(scriptLoadProblem('for (;;) {}', 300) ?? '', /did not finish loading within 300ms/);
    assert.equal(scriptLoadProblem('Promise.resolve().then(function again() { return Promise.resolve().then(again); }); module.exports = () => ({});', 5000), null, 'a script queueing work forever still reports');
    assert.ok(Date.now() - started < 5000);
  });

  it('console lines reach the host log as text', async () => {
    const lines: string[] = [];
    await ScriptSandbox.load("module.exports = (req) => { console.log('seen', req.path, { a: 1 }); };", { log: (l) => lines.push(l) }).call('request', { path: '/x' });
    assert.deepEqual(lines, ['seen /x {"a":1}']);
  });
});
