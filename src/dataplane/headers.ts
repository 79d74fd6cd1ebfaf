/**
 * Header list as a flat array [name0, value0, name1, value1, ...]: the shape
 * undici takes for dispatch, cheap to fill from uWS `forEach`, ordered, and
 * keeping repeated fields. Request header names are lowercase (uWS gives
 * them so); callers pass lowercase names.
 */
export class HeaderList {
  readonly items: string[];
  /**
   * The Host field as received, saved by the first change to `host` through this class (RequestAdaptor,
   * header ops, Script); null while Host is unchanged, so the common request pays nothing.
   */
  private receivedHost: string | undefined | null = null;
  /**
   * Set by any change to X-Forwarded-For through this class (filters): the
   * field is then the filter's, sent upstream as it is, without the peer appended.
   */
  forwardedForChanged = false;

  constructor(items: string[] = []) {
    this.items = items;
  }

  get(name: string): string | undefined {
    const items = this.items;
    for (let i = 0; i < items.length; i += 2) if (items[i] === name) return items[i + 1];
    return undefined;
  }

  /** Every value of a repeated field, in order. */
  getAll(name: string): string[] {
    const out: string[] = [];
    const items = this.items;
    for (let i = 0; i < items.length; i += 2) if (items[i] === name) out.push(items[i + 1] as string);
    return out;
  }

  count(name: string): number {
    let n = 0;
    const items = this.items;
    for (let i = 0; i < items.length; i += 2) if (items[i] === name) n++;
    return n;
  }

  /** Host as the client sent it, even after a filter rewrote it (X-Forwarded-Host); `current` is the field now, which the caller has in hand. */
  originalHost(current: string | undefined): string | undefined {
    return this.receivedHost === null ? current : this.receivedHost;
  }

  add(name: string, value: string): void {
    if (name === 'host') this.keepHost();
    else if (name === 'x-forwarded-for') this.forwardedForChanged = true;
    this.items.push(name, value);
  }

  /** Replaces every copy of `name` with one field. */
  set(name: string, value: string): void {
    this.delete(name);
    this.items.push(name, value);
  }

  /**
   * Adds `token` to Vary unless already named (case-insensitive) or `Vary: *`;
   * repeated Vary fields are folded into one.
   */
  addVary(token: string): void {
    const all = this.getAll('vary');
    if (all.length === 0) {
      this.items.push('vary', token);
      return;
    }
    const joined = all.join(', ');
    const want = token.toLowerCase();
    for (const t of joined.split(',')) {
      const name = t.trim().toLowerCase();
      if (name === want || name === '*') {
        if (all.length > 1) this.set('vary', joined);
        return;
      }
    }
    this.set('vary', `${joined}, ${token}`);
  }

  delete(name: string): void {
    if (name === 'host') this.keepHost();
    else if (name === 'x-forwarded-for') this.forwardedForChanged = true;
    const items = this.items;
    let w = 0;
    for (let r = 0; r < items.length; r += 2) {
      if (items[r] === name) continue;
      items[w] = items[r] as string;
      items[w + 1] = items[r + 1] as string;
      w += 2;
    }
    items.length = w;
  }

  private keepHost(): void {
    if (this.receivedHost === null) this.receivedHost = this.get('host');
  }
}
