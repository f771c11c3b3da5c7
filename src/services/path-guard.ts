/**
 * The model-root allow-list: a path is accepted only if, after resolving
 * symlinks, it lies inside one of the configured roots.
 */
import { realpath } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { InvalidArgument } from './errors.js';

export class PathNotAllowed extends Error {
  constructor(readonly path: string, readonly roots: readonly string[]) {
    super(`path '${path}' is outside the allowed model roots (${roots.join(', ')})`);
    this.name = 'PathNotAllowed';
  }
}

export class PathMissing extends Error {
  constructor(readonly path: string) {
    super(`path '${path}' does not exist`);
    this.name = 'PathMissing';
  }
}

async function realOrNull(p: string): Promise<string | null> {
  try {
    return await realpath(p);
  } catch {
    return null;
  }
}

function inside(child: string, root: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

/**
 * Resolves `path` (a relative path is tried against each root, never the
 * server's working directory, which a client neither chose nor may learn)
 * and returns its real path and the root holding it. A path outside every
 * root is refused whether or not it exists, so the error reveals nothing.
 * @throws PathNotAllowed when outside every root (symlinks resolved); PathMissing when inside but absent; InvalidArgument for a NUL byte
 */
export async function resolveAllowedPath(path: string, roots: readonly string[]): Promise<{ real: string; root: string }> {
  // realpath would throw a TypeError, which clients would see as an internal error
  if (path.includes('\0')) throw new InvalidArgument('path', `path ${JSON.stringify(path)} contains a NUL byte, which no file name can hold`);
  const realRoots = (await Promise.all(roots.map(realOrNull))).filter((r): r is string => r !== null);
  const candidates = path.startsWith('/') ? [resolve(path)] : realRoots.map((r) => resolve(r, path));
  let lexicallyInside = false;
  for (const candidate of candidates) {
    if (!realRoots.some((r) => inside(candidate, r)) && !roots.some((r) => inside(candidate, resolve(r)))) continue;
    lexicallyInside = true;
    const real = await realOrNull(candidate);
    if (real === null) continue;
    const root = realRoots.find((r) => inside(real, r));
    if (!root) throw new PathNotAllowed(path, roots);
    return { real, root };
  }
  if (!lexicallyInside) throw new PathNotAllowed(path, roots);
  throw new PathMissing(path);
}
