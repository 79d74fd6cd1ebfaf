/**
 * Maps a raw request path onto a relative file path, refusing anything that
 * could leave the root: `..` segments (also percent-encoded), encoded
 * slashes or backslashes, NUL bytes and undecodable escapes. Returns null
 * for a refused path. Symlinks are checked after resolution (see site.ts).
 */
export function safeRelativePath(rawPath: string): string[] | null {
  const out: string[] = [];
  const parts = rawPath.split('/');
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    let seg: string;
    try {
      seg = part.includes('%') ? decodeURIComponent(part) : part;
    } catch {
      return null;
    }
    if (seg === '..' || seg === '.' || seg.includes('/') || seg.includes('\\') || seg.includes('\0')) return null;
    out.push(seg);
  }
  return out;
}
