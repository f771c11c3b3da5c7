import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { FileAccessError, readConfinedFile, type AllowedRoots } from '../fs/confined-files.js';
import { decodeImage, ImageError } from '../model/image.js';
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

/** What reading one file gave: its digest, or why it failed. */
type Outcome = { sha256: string } | { missing: string } | { undecodable: string } | { refused: FileAccessError };

/**
 * Collects the images a probe file refers to while its lines are checked,
 * then hashes them all; a missing file is reported at its first reference.
 */
export class ImageCatalog {
  readonly #root: string;
  readonly #roots: AllowedRoots;
  readonly #decode: boolean;
  readonly #pending: Pending[] = [];

  /**
   * @param root the set's folder: image paths may not leave it
   * @param roots every image file's real path must lie inside one of these
   * @param options.decode also decode every image as the model would (registration does, so a bad file is refused before anything is stored)
   */
  constructor(root: string, roots: AllowedRoots, options: { decode?: boolean } = {}) {
    this.#root = root;
    this.#roots = roots;
    this.#decode = options.decode ?? false;
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
      throw new ProbeSetError('IMAGE_OUTSIDE_ROOT', `'${field}' = '${path}' must be a relative path inside the probe set's folder`, where);
    }
    const image: ProbeImage = { path: fromRoot.split(sep).join('/'), sha256: '' };
    this.#pending.push({ absolute, image, where, field });
    return image;
  }

  /**
   * Reads every registered file once and fills in its sha256.
   * @throws ProbeSetError MISSING_IMAGE (or BAD_IMAGE when decoding) naming the first reference, in file order, to a bad file
   * @throws FileAccessError OUTSIDE_ROOTS when an image is a symlink leading out of the roots
   */
  async hashAll(): Promise<void> {
    const unique = [...new Set(this.#pending.map((p) => p.absolute))];
    const outcomes = new Map<string, Outcome>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < unique.length) {
        const file = unique[next++]!;
        outcomes.set(file, await this.#read(file));
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, unique.length) }, worker));
    for (const p of this.#pending) {
      const outcome = outcomes.get(p.absolute)!;
      if ('refused' in outcome) throw outcome.refused;
      if ('missing' in outcome) throw new ProbeSetError('MISSING_IMAGE', `'${p.field}' = '${p.image.path}' ${outcome.missing}`, p.where);
      if ('undecodable' in outcome) throw new ProbeSetError('BAD_IMAGE', `'${p.field}' = '${p.image.path}' ${outcome.undecodable}`, p.where);
      p.image.sha256 = outcome.sha256;
    }
  }

  async #read(file: string): Promise<Outcome> {
    let bytes: Buffer;
    try {
      bytes = await readConfinedFile(file, this.#roots);
    } catch (error) {
      if (!(error instanceof FileAccessError)) throw error;
      if (error.reason === 'OUTSIDE_ROOTS') return { refused: error };
      if (error.reason === 'MISSING') return { missing: 'does not exist' };
      if (error.reason === 'NOT_A_FILE') return { missing: 'is not a regular file' };
      return { missing: 'cannot be read' };
    }
    if (this.#decode) {
      try {
        await decodeImage(bytes, file);
      } catch (error) {
        if (!(error instanceof ImageError)) throw error;
        return { undecodable: 'is not a PNG or JPEG image that decodes (unsupported image format, or a truncated or corrupt file)' };
      }
    }
    return { sha256: createHash('sha256').update(bytes).digest('hex') };
  }
}
