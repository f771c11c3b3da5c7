import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ProbeSetError, type ProbeSetErrorLocation } from './ProbeSetError.js';
import type { ProbeImage } from './types.js';

/** How many image files are read at once. */
const CONCURRENCY = 16;

interface Pending {
  absolute: string;
  image: ProbeImage;
  where: ProbeSetErrorLocation;
  field: string;
}

/**
 * Collects the images a probe file refers to while its lines are checked,
 * then hashes them all; a missing file is reported at its first reference.
 */
export class ImageCatalog {
  readonly #root: string;
  readonly #pending: Pending[] = [];

  constructor(root: string) {
    this.#root = root;
  }

  /**
   * Registers `path` (relative to `baseDir`) and returns the image record
   * whose `sha256` is filled in by `hashAll`.
   * @throws ProbeSetError IMAGE_OUTSIDE_ROOT for absolute paths or paths leaving the root
   */
  add(baseDir: string, path: string, field: string, where: ProbeSetErrorLocation): ProbeImage {
    const absolute = resolve(baseDir, path);
    const fromRoot = relative(this.#root, absolute);
    if (isAbsolute(path) || fromRoot === '' || fromRoot.startsWith('..') || isAbsolute(fromRoot)) {
      throw new ProbeSetError('IMAGE_OUTSIDE_ROOT', `'${field}' = '${path}' must be a relative path inside ${this.#root}`, where);
    }
    const image: ProbeImage = { path: fromRoot.split(sep).join('/'), sha256: '' };
    this.#pending.push({ absolute, image, where, field });
    return image;
  }

  /**
   * Reads every registered file once and fills in its sha256.
   * @throws ProbeSetError MISSING_IMAGE naming the first reference (in file order) to an unreadable file
   */
  async hashAll(): Promise<void> {
    const unique = [...new Set(this.#pending.map((p) => p.absolute))];
    const hashes = new Map<string, string | Error>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < unique.length) {
        const file = unique[next++]!;
        try {
          hashes.set(file, createHash('sha256').update(await readFile(file)).digest('hex'));
        } catch (error) {
          hashes.set(file, error as Error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, unique.length) }, worker));
    for (const p of this.#pending) {
      const hash = hashes.get(p.absolute)!;
      if (hash instanceof Error) {
        const reason = (hash as NodeJS.ErrnoException).code === 'EISDIR' ? 'is a folder, not a file' : 'cannot be read';
        throw new ProbeSetError('MISSING_IMAGE', `'${p.field}' = '${p.image.path}' ${reason} (${p.absolute})`, p.where);
      }
      p.image.sha256 = hash;
    }
  }
}
