/**
 * Every filter kind ngate knows: its config schema and its factory. Adding a
 * kind means one folder under filters/ and one line in each table here.
 */
import type { Filter, FilterEnv, FilterFactory } from '../pipeline/filter';
import { CorsFilter } from './cors/filter';
import { unwrapFaultHook, withFaultHook } from './fault-hook';
import type { CorsSpec } from './cors/schema';
import { IPFilterFilter } from './ip-filter/filter';
import type { IPFilterSpec } from './ip-filter/schema';
import { RateLimiterFilter } from './rate-limiter/filter';
import type { RateLimiterSpec } from './rate-limiter/schema';
import { RedirectorFilter } from './redirector/filter';
import type { RedirectorSpec } from './redirector/schema';
import { MockFilter } from './mock/filter';
import type { MockSpec } from './mock/schema';
import { createProxy } from './proxy/traffic-split';
import type { ProxySpec } from './proxy/schema';
import { RequestAdaptorFilter } from './request-adaptor/filter';
import type { RequestAdaptorSpec } from './request-adaptor/schema';
import { ResponseAdaptorFilter } from './response-adaptor/filter';
import type { ResponseAdaptorSpec } from './response-adaptor/schema';
import { ScriptFilter } from './script/filter';
import type { ScriptSpec } from './script/schema';
import { ValidatorFilter } from './validator/filter';
import type { ValidatorSpec } from './validator/schema';

export const FILTER_FACTORIES: Record<string, FilterFactory> = {
  Mock: (name, spec) => new MockFilter(name, spec as unknown as MockSpec),
  Proxy: (name, spec, env, previous) => createProxy(name, spec as unknown as ProxySpec, env, previous),
  Validator: (name, spec) => new ValidatorFilter(name, spec as unknown as ValidatorSpec),
  RequestAdaptor: (name, spec) => new RequestAdaptorFilter(name, spec as unknown as RequestAdaptorSpec),
  ResponseAdaptor: (name, spec) => new ResponseAdaptorFilter(name, spec as unknown as ResponseAdaptorSpec),
  Redirector: (name, spec) => new RedirectorFilter(name, spec as unknown as RedirectorSpec),
  CORS: (name, spec) => new CorsFilter(name, spec as unknown as CorsSpec),
  RateLimiter: (name, spec, _env, previous) => new RateLimiterFilter(name, spec as unknown as RateLimiterSpec, previous instanceof RateLimiterFilter ? previous : null),
  IPFilter: (name, spec) => new IPFilterFilter(name, spec as unknown as IPFilterSpec),
  Script: (name, spec) => new ScriptFilter(name, spec as unknown as ScriptSpec),
};

/** `previous`: the same-named filter of the pipeline in the generation being replaced, if any. */
export function createFilter(kind: string, name: string, spec: Record<string, unknown>, env: FilterEnv, previous: Filter | null = null): Filter {
  const factory = FILTER_FACTORIES[kind];
  if (factory === undefined) throw new Error(`unknown filter kind ${kind} (validation should have refused it)`);
  // A filter whose kind changed under the same name starts fresh.
  const inherited = previous === null || previous.kind !== kind ? null : unwrapFaultHook(previous);
  return withFaultHook(factory(name, spec, env, inherited));
}
