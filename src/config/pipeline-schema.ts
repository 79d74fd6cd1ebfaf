import { dict, list, object, optional, str, type Infer } from './schema-kit';

export const flowStepSchema = object({ filter: str(), jumpIf: optional(dict(str())) }, { name: 'a flow step' });

/** A filter's own fields are checked by its kind's schema (see the filter registry). */
export const pipelineSchemaBase = object({
  kind: str(),
  name: str({ pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, hint: 'a name of letters, digits, ".", "_" and "-"' }),
  flow: optional(list(flowStepSchema)),
  filters: list(
    {
      describe: 'a filter',
      check: (v) => v as Record<string, unknown>,
    },
    { min: 1 },
  ),
});

export type FlowStepSpec = Infer<typeof flowStepSchema>;
