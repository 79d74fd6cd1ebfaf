/**
 * The one place that knows where uWebSockets.js comes from. Order: the
 * official package if the user installed it, then the npm builds. The
 * trufflesuite build silently falls back to a slow pure-JS server when its
 * native binary does not load; ngate requires the binary directly instead.
 */
import * as path from 'node:path';
import type { UwsModule } from './uws-api';

export interface LoadedUws {
  readonly uws: UwsModule;
  /** Which package and file provided it, for `ngate status` and the loader test. */
  readonly source: string;
  readonly native: true;
}

const SUPPORTED = [
  'uWebSockets.js (official build from GitHub, installed by you)',
  '@btc-vision/uwebsockets.js: Node 20-25 on Linux/macOS with glibc >= 2.38 (Debian 13, Ubuntu 24.04)',
  '@trufflesuite/uws-js-unofficial: Node 16, 18 or 20 on Linux/macOS/Windows (older glibc such as Debian 12 works)',
];

function tryOfficial(): LoadedUws | string {
  try {
    const file = require.resolve('uWebSockets.js');
    return { uws: require(file) as UwsModule, source: `uWebSockets.js (${file})`, native: true };
  } catch (err) {
    return `uWebSockets.js: ${(err as Error).message.split('\n')[0]}`;
  }
}

function tryBtcVision(): LoadedUws | string {
  try {
    const file = require.resolve('@btc-vision/uwebsockets.js');
    return { uws: require(file) as UwsModule, source: `@btc-vision/uwebsockets.js (${file})`, native: true };
  } catch (err) {
    return `@btc-vision/uwebsockets.js: ${(err as Error).message.split('\n')[0]}`;
  }
}

function tryTrufflesuite(): LoadedUws | string {
  try {
    const pkg = require.resolve('@trufflesuite/uws-js-unofficial/package.json');
    const file = path.join(path.dirname(pkg), 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
    return { uws: require(file) as UwsModule, source: `@trufflesuite/uws-js-unofficial (${file})`, native: true };
  } catch (err) {
    return `@trufflesuite/uws-js-unofficial: ${(err as Error).message.split('\n')[0]}`;
  }
}

let loaded: LoadedUws | null = null;

/** Loads a native uWS build or throws one error listing every attempt and what is supported. */
export function loadUws(): LoadedUws {
  if (loaded !== null) return loaded;
  const failures: string[] = [];
  for (const attempt of [tryOfficial, tryBtcVision, tryTrufflesuite]) {
    const result = attempt();
    if (typeof result !== 'string') {
      loaded = result;
      return result;
    }
    failures.push(result);
  }
  throw new Error(
    `ngate could not load a native uWebSockets.js build for Node ${process.versions.node} (ABI ${process.versions.modules}, ` +
      `${process.platform}-${process.arch}).\nTried:\n  ${failures.join('\n  ')}\nSupported combinations:\n  ${SUPPORTED.join('\n  ')}`,
  );
}
