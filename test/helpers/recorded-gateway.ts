import assert from 'node:assert/strict';
import { RecordingUpstream } from '../framing-suite/upstream';
import { startGateway, type Gateway } from './gateway';
import { proxyConfig } from './pipelines';

export interface RecordedGateway {
  readonly upstream: RecordingUpstream;
  readonly gw: Gateway;
  /** The port of HTTPServer `edge`. */
  readonly port: number;
}

/** A RecordingUpstream, and a gateway whose HTTPServer `edge` proxies every path to it; `fields`: more HTTPServer lines. */
export async function startRecordedGateway(fields: string, workers: number): Promise<RecordedGateway> {
  const upstream = new RecordingUpstream();
  await upstream.start();
  const gw = await startGateway(proxyConfig(`http://127.0.0.1:${upstream.port}`, fields), { workers });
  return { upstream, gw, port: gw.ports.get('edge') as number };
}

/** Stops the gateway, which must exit cleanly, then the upstream. */
export async function stopRecordedGateway(r: { gw: Gateway; upstream: RecordingUpstream }): Promise<void> {
  assert.equal(await r.gw.stop(), 0);
  await r.upstream.close();
}
