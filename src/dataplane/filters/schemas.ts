/**
 * Config schemas of every filter kind. Kept apart from the factories so that
 * validation (control side) loads no data-path code.
 */
import type { Issue, Schema } from '../../config/schema-kit';
import { corsSchema, corsWarnings, type CorsSpec } from './cors/schema';
import { ipFilterSchema, ipFilterWarnings, type IPFilterSpec } from './ip-filter/schema';
import { rateLimiterSchema } from './rate-limiter/schema';
import { redirectorSchema } from './redirector/schema';
import { mockSchema } from './mock/schema';
import { proxySchema } from './proxy/schema';
import { requestAdaptorSchema } from './request-adaptor/schema';
import { responseAdaptorSchema } from './response-adaptor/schema';
import { scriptSchema } from './script/schema';
import { validatorSchema } from './validator/schema';

export const FILTER_SCHEMAS: Record<string, Schema<Record<string, unknown>>> = {
  Mock: mockSchema as Schema<Record<string, unknown>>,
  Proxy: proxySchema as Schema<Record<string, unknown>>,
  Validator: validatorSchema as Schema<Record<string, unknown>>,
  RequestAdaptor: requestAdaptorSchema as Schema<Record<string, unknown>>,
  ResponseAdaptor: responseAdaptorSchema as Schema<Record<string, unknown>>,
  Redirector: redirectorSchema as Schema<Record<string, unknown>>,
  CORS: corsSchema as Schema<Record<string, unknown>>,
  RateLimiter: rateLimiterSchema as unknown as Schema<Record<string, unknown>>,
  IPFilter: ipFilterSchema as Schema<Record<string, unknown>>,
  Script: scriptSchema as Schema<Record<string, unknown>>,
};

/**
 * The results each kind can yield (what `jumpIf` may name); null: any, set by
 * the user (a Script's `result`). '' is never one: it means "go on".
 */
export const FILTER_RESULTS: Record<string, readonly string[] | null> = {
  Mock: ['mocked'],
  Proxy: ['serverError'],
  Validator: ['invalid'],
  RequestAdaptor: ['invalid'],
  ResponseAdaptor: ['serverError'],
  Redirector: ['redirected'],
  CORS: ['preflight'],
  RateLimiter: ['limited'],
  IPFilter: ['blocked'],
  Script: null,
};

/** Per kind: settings that are valid but almost surely not meant, as warnings with paths inside the filter. */
export const FILTER_WARNINGS: Record<string, ((spec: Record<string, unknown>) => Issue[]) | undefined> = {
  CORS: (spec) => corsWarnings(spec as unknown as CorsSpec),
  IPFilter: (spec) => ipFilterWarnings(spec as unknown as IPFilterSpec),
};
