/** One of `values` exactly, or `regexp`: how routes, Validators and candidate pools match a header or query value. */
export type ValueMatcher = (value: string | undefined) => boolean;

/** Compiled once per config generation (the regexp is built here, never per request). */
export function valueMatcher(spec: { readonly values?: readonly string[]; readonly regexp?: string }): ValueMatcher {
  const values = spec.values ?? null;
  const re = spec.regexp === undefined ? null : new RegExp(spec.regexp);
  return (value) => {
    if (value === undefined) return false;
    if (values !== null && values.includes(value)) return true;
    return re !== null && re.test(value);
  };
}
