/** The value of cookie `name` in a request's Cookie header fields, or null. */
export function cookieValue(fields: readonly string[], name: string): string | null {
  for (const field of fields) {
    let start = 0;
    while (start < field.length) {
      let end = field.indexOf(';', start);
      if (end === -1) end = field.length;
      const eq = field.indexOf('=', start);
      if (eq !== -1 && eq < end && field.slice(start, eq).trim() === name) return field.slice(eq + 1, end).trim();
      start = end + 1;
    }
  }
  return null;
}

/** How many times cookie `name` appears in a request's Cookie header fields. */
export function cookieCount(fields: readonly string[], name: string): number {
  let n = 0;
  for (const field of fields) {
    let start = 0;
    while (start < field.length) {
      let end = field.indexOf(';', start);
      if (end === -1) end = field.length;
      const eq = field.indexOf('=', start);
      if (eq !== -1 && eq < end && field.slice(start, eq).trim() === name) n++;
      start = end + 1;
    }
  }
  return n;
}
