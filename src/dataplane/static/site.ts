import { close, constants, fstat, open, read, realpathSync, type Stats } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join, sep } from 'node:path';
import type { StaticSpec } from '../../config/http-server-schema';
import type { RequestContext } from '../context';
import { acceptedVariants } from './accept-encoding';
import { etagOf, parseRange, preconditions } from './conditional';
import { FileBody, LengthOnlyBody } from './file-body';
import { hotFile, hotFiles, sameFile, type HotFile } from './hot-cache';
import { contentType } from './mime';
import { safeRelativePath } from './safe-path';

// Raw descriptors, not FileHandle: the body owns the fd after this module is done, and a
// FileHandle would close it again when garbage-collected.
const openFd = promisify(open);
const fstatFd = promisify(fstat);
const closeFd = promisify(close);
const readFd = promisify(read);

/**
 * Never a blocking open: a FIFO swapped in after the lstat would otherwise
 * hold a threadpool thread until a writer appears. O_NONBLOCK changes
 * nothing for regular files; O_NOFOLLOW refuses a symlink swapped in after
 * realpath.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;
/** Slashes and backslashes: a browser reads `/\host` as `//host` too. */
const LEADING_SLASHES = /^[/\\]+/;

interface Opened {
  readonly fd: number;
  readonly stat: Stats;
  readonly file: string;
}
/** An open file, or a small one already in memory (see hot-cache.ts). */
type Found = Opened | HotFile;
type FileLookup = Found | 'missing' | 'forbidden';
type Lookup = FileLookup | 'directory';

const release = async (f: Found): Promise<void> => {
  if ('fd' in f) await closeFd(f.fd);
};

/**
 * One `static:` path rule: serves files under `root` for GET and HEAD with
 * validators, conditional requests and single byte ranges. Never lists a
 * directory; every resolved path (symlinks included) must stay under root.
 */
export class StaticSite {
  private readonly root: string;
  private readonly rootPrefix: string;
  private readonly index: readonly string[];
  private readonly tryFiles: readonly string[];
  private readonly precompressed: boolean;

  constructor(spec: StaticSpec) {
    let root = spec.root;
    try {
      root = realpathSync(root);
    } catch {
      // Gone since validation: every request will answer 404.
    }
    this.root = root;
    this.rootPrefix = root.endsWith(sep) ? root : root + sep;
    this.index = spec.index;
    this.tryFiles = spec.tryFiles ?? [];
    this.precompressed = spec.precompressed;
  }

  /**
   * `askedPath` is the normalised path before the route's rewrite: a
   * directory redirect sends the client back to what it asked for (nginx's
   * alias does the same), never to the rewritten path it cannot see.
   */
  async serve(ctx: RequestContext, askedPath: string = ctx.path): Promise<void> {
    if (ctx.hasBody) ctx.body?.resume(); // a body means nothing here: discard it
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.fail('NGATE_ERR_METHOD_NOT_ALLOWED');
      ctx.responseHeaders.add('allow', 'GET, HEAD');
      return;
    }
    const segments = safeRelativePath(ctx.path);
    if (segments === null) return ctx.fail('NGATE_ERR_NOT_FOUND');
    const found = await this.find(ctx, segments, askedPath);
    if (found === 'missing') return ctx.fail('NGATE_ERR_NOT_FOUND');
    if (found === 'forbidden') return ctx.fail('NGATE_ERR_FORBIDDEN');
    if (found === null) return; // redirected
    if (ctx.aborted) {
      await release(found);
      return;
    }
    await this.answer(ctx, found);
  }

  /** The file for the request, or null after answering with a redirect to the directory's slash form. */
  private async find(ctx: RequestContext, segments: string[], askedPath: string): Promise<FileLookup | null> {
    const target = join(this.root, ...segments);
    // `/a.txt/` names a directory: a file there is not found (ENOTDIR, as nginx), though tryFiles may still answer.
    const p = ctx.path;
    const dirForm = p.endsWith('/') || p.endsWith('/.');
    const first = await this.lookup(target);
    if (first === 'forbidden') return first;
    if (first === 'directory') {
      // A client that asked with the slash already (rewritten to a slash-less path) gets the index: no redirect loop.
      if (!dirForm && !askedPath.endsWith('/')) {
        ctx.status = 301;
        ctx.responseHeaders.set('location', directoryLocation(askedPath, ctx.query));
        return null;
      }
      for (const name of this.index) {
        const idx = await this.lookupFile(join(target, name));
        if (idx !== 'missing') return idx;
      }
      return 'missing';
    }
    if (first !== 'missing') {
      if (!dirForm) return first;
      await release(first);
    }
    const uri = '/' + segments.join('/');
    for (const pattern of this.tryFiles) {
      const segs = safeRelativePath(pattern.replace('$uri', uri));
      if (segs === null) continue;
      const alt = await this.lookupFile(join(this.root, ...segs));
      if (alt !== 'missing') return alt;
    }
    return 'missing';
  }

  /** Like lookup, but only a regular file counts. */
  private async lookupFile(path: string): Promise<FileLookup> {
    const r = await this.lookup(path);
    return r === 'directory' ? 'missing' : r;
  }

  private async lookup(path: string): Promise<Lookup> {
    // Keyed by site root and path as asked for: a path one site's root allows is never served by another site.
    const key = this.rootPrefix + '\0' + path;
    const hot = await hotFiles.get(key, path);
    if (hot !== undefined) return hot;
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      return 'missing';
    }
    if (real !== this.root && !real.startsWith(this.rootPrefix)) return 'forbidden';
    // Only a regular file is ever opened: a FIFO, socket or device is not found (as nginx).
    try {
      const st = await lstat(real);
      if (st.isDirectory()) return 'directory';
      if (!st.isFile()) return 'missing';
    } catch {
      return 'missing';
    }
    let fd: number;
    try {
      fd = await openFd(real, OPEN_FLAGS);
    } catch {
      return 'missing';
    }
    let stat: Stats;
    try {
      stat = await fstatFd(fd);
    } catch {
      await closeFd(fd);
      return 'missing';
    }
    // Checked again on the descriptor: the path may have been swapped since the lstat.
    if (!stat.isFile()) {
      await closeFd(fd);
      return 'missing';
    }
    if (hotFiles.admits(stat.size)) {
      const hot = await readSmall(fd, real, stat);
      if (hot !== null) {
        hotFiles.set(key, hot);
        return hot;
      }
    }
    return { fd, stat, file: real };
  }

  private async answer(ctx: RequestContext, found: Found): Promise<void> {
    let served = found;
    const h = ctx.responseHeaders;
    h.set('content-type', contentType(found.file));
    if (this.precompressed) {
      h.set('vary', 'Accept-Encoding');
      const variant = ctx.headers.get('range') === undefined ? await this.compressedVariant(ctx, found.file) : null;
      if (variant !== null) {
        await release(found);
        served = variant.opened;
        h.set('content-encoding', variant.encoding);
      }
    }
    const size = 'fd' in served ? served.stat.size : served.size;
    const mtimeMs = 'fd' in served ? served.stat.mtimeMs : served.mtimeMs;
    const etag = 'fd' in served ? etagOf(size, mtimeMs) : served.etag;
    const lastModified = 'fd' in served ? served.stat.mtime.toUTCString() : served.lastModified;
    h.set('etag', etag);
    h.set('last-modified', lastModified);
    h.set('accept-ranges', 'bytes');
    const outcome = preconditions(ctx.headers, etag, mtimeMs, Date.now());
    if (outcome === 'failed') {
      await release(served);
      ctx.fail('NGATE_ERR_PRECONDITION_FAILED');
      return;
    }
    if (outcome === 'not-modified') {
      await release(served);
      ctx.status = 304;
      h.delete('content-type');
      return;
    }
    const range = parseRange(ctx.headers, size, etag, lastModified);
    if (range === 'unsatisfiable') {
      await release(served);
      ctx.fail('NGATE_ERR_RANGE_NOT_SATISFIABLE');
      ctx.responseHeaders.set('content-range', `bytes */${size}`);
      return;
    }
    let start = 0;
    let length = size;
    ctx.status = 200;
    if (range !== null) {
      start = range.start;
      length = range.end - range.start + 1;
      ctx.status = 206;
      h.set('content-range', `bytes ${range.start}-${range.end}/${size}`);
    }
    if (ctx.method === 'HEAD') {
      await release(served);
      ctx.streamedBody = new LengthOnlyBody(length);
      return;
    }
    if (!('fd' in served)) {
      ctx.responseBody = start === 0 && length === size ? served.body : served.body.subarray(start, start + length);
      return;
    }
    // The descriptor now belongs to the body, which closes it on end, error or cancel.
    const body = new FileBody(served.fd, start, length);
    ctx.streamedBody = body;
    ctx.onAbort = () => body.cancel();
  }

  private async compressedVariant(ctx: RequestContext, file: string): Promise<{ opened: Found; encoding: string } | null> {
    for (const { encoding, ext } of acceptedVariants(ctx.headers.get('accept-encoding'))) {
      const r = await this.lookupFile(file + ext);
      if (r !== 'missing' && r !== 'forbidden') return { opened: r, encoding };
    }
    return null;
  }
}

/**
 * The directory redirect's target: the path plus `/`, query kept. Always
 * one leading slash: `//sub/` (or `/\sub/` to some browsers) would be read
 * as the host "sub", an open redirect.
 */
export function directoryLocation(path: string, query: string): string {
  const local = '/' + path.replace(LEADING_SLASHES, '');
  return local + '/' + (query === '' ? '' : `?${query}`);
}

/**
 * Reads a small file whole for the hot cache. Null (the caller streams from
 * the descriptor as usual) when the file changed while it was read.
 */
async function readSmall(fd: number, file: string, stat: Stats): Promise<HotFile | null> {
  // Its own allocation, not a slice of Node's shared pool: a cached 100-byte body must not keep an 8 KiB slab alive.
  const buf = Buffer.allocUnsafeSlow(stat.size);
  let got = 0;
  let after: Stats;
  try {
    while (got < buf.length) {
      const { bytesRead } = await readFd(fd, buf, got, buf.length - got, got);
      if (bytesRead === 0) return null;
      got += bytesRead;
    }
    after = await fstatFd(fd);
  } catch {
    return null;
  }
  const entry = hotFile(file, buf, stat, hotFiles.now());
  if (!sameFile(entry, after)) return null;
  await closeFd(fd);
  return entry;
}
