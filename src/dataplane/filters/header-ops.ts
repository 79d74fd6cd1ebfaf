import { FRAMING_HEADERS, headerMap } from '../../config/header-map-schema';
import { list, object, optional, str, type Infer } from '../../config/schema-kit';
import type { HeaderList } from '../headers';

export const headerOpsSchema = object(
  { set: optional(headerMap({ forbid: FRAMING_HEADERS })), add: optional(headerMap({ forbid: FRAMING_HEADERS })), del: optional(list(str())) },
  { name: 'header operations ({set}, {add}, {del})' },
);
export type HeaderOpsSpec = Infer<typeof headerOpsSchema>;

/** Header set/add/del compiled once into flat lists (lowercase names). */
export class HeaderOps {
  private readonly del: readonly string[];
  private readonly set: readonly (readonly [string, string])[];
  private readonly add: readonly (readonly [string, string])[];

  constructor(spec: HeaderOpsSpec | undefined) {
    this.del = (spec?.del ?? []).map((n) => n.toLowerCase());
    this.set = Object.entries(spec?.set ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const);
    this.add = Object.entries(spec?.add ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const);
  }

  get empty(): boolean {
    return this.del.length + this.set.length + this.add.length === 0;
  }

  apply(headers: HeaderList): void {
    for (const name of this.del) headers.delete(name);
    for (const [name, value] of this.set) headers.set(name, value);
    for (const [name, value] of this.add) headers.add(name, value);
  }
}
