import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { engineExecArgv } from '../src/supervisor/engine-flags';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

describe('the V8 flags the engine process runs with', () => {
  it('fix the young generation at 16 MiB semi-spaces, after the flags node was given', () => {
    assert.deepEqual(engineExecArgv(['--enable-source-maps'], undefined), ['--enable-source-maps', '--min-semi-space-size=16', '--max-semi-space-size=16']);
  });

  it('leave the young generation to an operator who sized it on the command line', () => {
    assert.deepEqual(engineExecArgv(['--max-semi-space-size=64'], undefined), ['--max-semi-space-size=64']);
    assert.deepEqual(engineExecArgv(['--min_semi_space_size=8'], ''), ['--min_semi_space_size=8']);
  });

  it('leave it to NODE_OPTIONS too', () => {
    assert.deepEqual(engineExecArgv([], '--max-old-space-size=512 --max-semi-space-size=32'), []);
  });
});

describe('the engine a gateway runs', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway('kind: HTTPServer\nname: s\nport: 0\naddress: 127.0.0.1\nrules: []\n');
  });
  after(() => gw.stop());

  it('was started with the young-generation flags', async () => {
    const pid = JSON.parse((await http(`${gw.admin}/server_info`)).body).pid as number;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(argv.includes('--min-semi-space-size=16'), argv.join(' '));
  });
});
