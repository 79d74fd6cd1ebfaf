import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadAndCompile } from '../src/config/config-file';
import { REPO_ROOT } from './helpers/gateway';

/** The JSON-array form of a Dockerfile instruction (`CMD [...]`, `EXPOSE` is split on blanks). */
function instruction(dockerfile: string, name: string): string {
  const line = dockerfile.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `the Dockerfile has ${name}`);
  return line.slice(name.length + 1).trim();
}

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.');
}

/**
 * `docker run -p 8080:8080 ngate` publishes a port by forwarding to the
 * container's own interface: a listener on the container's loopback is never
 * reached. The image's default command must serve on every address it has.
 */
describe('the container image default command', () => {
  const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const cmd = JSON.parse(instruction(dockerfile, 'CMD')) as string[];
  const configAt = cmd.indexOf('--config');

  it('runs a valid config whose every listener is reachable from outside the container, on the ports it exposes', () => {
    assert.equal(cmd[0], 'start');
    assert.ok(configAt > 0, 'CMD names its --config');
    // WORKDIR /app holds the repository's configs/ as they are here.
    const file = path.join(REPO_ROOT, cmd[configAt + 1] ?? '');
    const outcome = loadAndCompile([file], 1);
    assert.deepEqual(outcome.errors, []);
    const servers = outcome.compiled?.servers ?? [];
    assert.ok(servers.length > 0);
    const exposed = instruction(dockerfile, 'EXPOSE').split(/\s+/).map(Number);
    for (const s of servers) {
      assert.ok(!isLoopback(s.address), `HTTPServer ${s.name} listens on ${s.address}, the container's loopback`);
      assert.ok(exposed.includes(s.port), `port ${s.port} is in EXPOSE ${exposed.join(' ')}`);
    }
  });
});
