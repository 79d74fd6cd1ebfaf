import { dict, list, object, optional, regexp, str, type Infer } from '../../../config/schema-kit';

export const validatorSchema = object(
  {
    name: str(),
    kind: str(),
    headers: optional(dict(object({ values: optional(list(str({ nonEmpty: false }))), regexp: optional(regexp()) }, { name: 'a header rule ({values} and/or {regexp})' }))),
  },
  { name: 'a Validator filter' },
);
export type ValidatorSpec = Infer<typeof validatorSchema>;
