/** Turns validated objects into the plain data workers build their runtime from. */
import { END_STEP, type CompiledConfig, type CompiledPipeline, type CompiledServer } from './compiled';
import { forwardStep } from './flow';
import type { ObjectSpec, PipelineSpec } from './validate';

/** Validation refused any other jump; a backward one here would let one request loop forever. */
function jumpTarget(flow: readonly { filter: string }[], from: number, target: string): number {
  const to = forwardStep(flow, from, target);
  if (to === undefined) throw new Error(`flow[${from}] jumps to "${target}", which is not a later step`);
  return to;
}

function compilePipeline(p: PipelineSpec): CompiledPipeline {
  const filters = p.filters.map((spec) => ({ name: spec.name as string, kind: spec.kind as string, spec }));
  const index = new Map(filters.map((f, i) => [f.name, i]));
  // Without a flow, filters run in the order they are listed (Easegress).
  const flow = p.flow ?? filters.map((f) => ({ filter: f.name, jumpIf: undefined }));
  const steps = flow.map((s, i) => ({
    filter: index.get(s.filter) as number,
    jumpIf: Object.fromEntries(Object.entries(s.jumpIf ?? {}).map(([result, target]) => [result, target === 'END' ? END_STEP : jumpTarget(flow, i, target)])),
  }));
  return { name: p.name, steps, filters };
}

export function compileConfig(objects: ObjectSpec[], generation: number): CompiledConfig {
  const servers: CompiledServer[] = [];
  const pipelines: CompiledPipeline[] = [];
  for (const o of objects) {
    if (o.kind === 'Pipeline') pipelines.push(compilePipeline(o));
    else {
      servers.push({
        name: o.name,
        port: o.port,
        address: o.address,
        https: o.https,
        tls: o.tls ?? null,
        engine: o.engine,
        protocols: o.protocols ?? (o.engine === 'node' ? ['http1', 'h2c'] : ['http1']),
        pipelining: o.pipelining,
        keepAlive: o.keepAlive,
        keepAliveTimeout: o.keepAliveTimeout,
        headersTimeout: o.headersTimeout,
        requestTimeout: o.requestTimeout,
        maxConnections: o.maxConnections,
        clientMaxBodySize: o.clientMaxBodySize,
        maxHeaderCount: o.maxHeaderCount,
        maxHeaderBytes: o.maxHeaderBytes,
        xForwardedFor: o.xForwardedFor,
        requestId: o.requestId,
        accessLog: o.accessLog ?? null,
        rules: o.rules,
        slot: -1,
        routeSlots: [],
      });
    }
  }
  return { generation, servers, pipelines };
}
