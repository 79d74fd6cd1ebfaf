import { END_STEP, type CompiledPipeline } from '../../config/compiled';
import type { RequestContext } from '../context';
import type { Filter, FilterEnv } from './filter';
import { createFilter } from '../filters/registry';

interface Step {
  readonly filter: Filter;
  readonly jumpIf: ReadonlyMap<string, number>;
}

/**
 * A pipeline's flow: run the steps in order; a filter's non-empty result
 * jumps where `jumpIf` says, or ends the flow when no jump is declared
 * (the Easegress rule). The response is whatever the context holds at END.
 * Every jump goes to a later step (validation and compilation see to it, see
 * src/config/flow.ts), so a request runs each step at most once.
 */
export class Pipeline {
  readonly name: string;
  private readonly steps: readonly Step[];
  readonly filters: readonly Filter[];

  /** `previous`: the same-named pipeline of the generation being replaced; its filters pass state on by name. */
  constructor(spec: CompiledPipeline, env: FilterEnv, previous: Pipeline | null = null) {
    this.name = spec.name;
    const filters: Filter[] = [];
    try {
      for (const f of spec.filters) filters.push(createFilter(f.kind, f.name, f.spec, env, previous?.filter(f.name) ?? null));
    } catch (err) {
      // The filters built so far release what they took (offload pool leases, timers).
      for (const f of filters) f.close?.();
      throw err;
    }
    this.filters = filters;
    this.steps = spec.steps.map((s) => ({
      filter: this.filters[s.filter] as Filter,
      jumpIf: new Map(Object.entries(s.jumpIf)),
    }));
  }

  /** The filter with this name, null when none (used only while the next generation is built). */
  filter(name: string): Filter | null {
    for (const f of this.filters) if (f.name === name) return f;
    return null;
  }

  /** Runs synchronously until a filter returns a promise; only then becomes async. */
  run(ctx: RequestContext): void | Promise<void> {
    return this.runFrom(0, ctx);
  }

  private runFrom(start: number, ctx: RequestContext): void | Promise<void> {
    const steps = this.steps;
    let i = start;
    while (i !== END_STEP && i < steps.length && !ctx.aborted) {
      const step = steps[i] as Step;
      const result = step.filter.handle(ctx);
      if (typeof result !== 'string') {
        // The last step without jumps ends the flow whatever it returns: its own promise will do (no closure, no extra promise).
        if (i === steps.length - 1 && step.jumpIf.size === 0) return result as Promise<unknown> as Promise<void>;
        return result.then((r) => this.continueAfter(i, r, ctx));
      }
      i = this.next(step, i, result);
    }
  }

  private continueAfter(i: number, result: string, ctx: RequestContext): void | Promise<void> {
    const next = this.next(this.steps[i] as Step, i, result);
    return next === END_STEP ? undefined : this.runFrom(next, ctx);
  }

  private next(step: Step, i: number, result: string): number {
    if (result === '') return i + 1;
    return step.jumpIf.get(result) ?? END_STEP;
  }

  close(): void {
    for (const f of this.filters) f.close?.();
  }
}
