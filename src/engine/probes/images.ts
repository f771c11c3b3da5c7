import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { FileAccessError, readConfinedFile, type AllowedRoots } from '../fs/confined-files.js';
import { decodeImage, ImageError } from '../model/image.js';
import { ProbeSetError, type ProbeSetErrorLocation } from './ProbeSetError.js';
import type { ProbeImage, SkippableProblem } from './types.js';

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

/** Why an example's images cannot be used: the first problem's code and every problem, in field order. */
export interface ImageProblems {
  code: SkippableProblem;
  reasons: string[];
}

export interface HashAllOptions {
  /** examples whose images are not read at all (left out when the set was registered) */
  ignore?: ReadonlySet<string>;
  /** a missing or undecodable image leaves its example out (reported) instead of refusing the set */
  skipInvalid?: boolean;
}

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
   * @returns with `skipInvalid`, the examples (by id, in file order) whose images cannot be used; otherwise empty
   * @throws ProbeSetError MISSING_IMAGE (or BAD_IMAGE when decoding) naming the first reference, in file order, to a bad file
   * @throws FileAccessError OUTSIDE_ROOTS when an image is a symlink leading out of the roots, skipping or not
   */
  async hashAll(options: HashAllOptions = {}): Promise<Map<string, ImageProblems>> {
    const ignore = options.ignore ?? new Set<string>();
    const pending = this.#pending.filter((p) => p.where.exampleId === undefined || !ignore.has(p.where.exampleId));
    const unique = [...new Set(pending.map((p) => p.absolute))];
    const outcomes = new Map<string, Outcome>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < unique.length) {
        const file = unique[next++]!;
        outcomes.set(file, await this.#read(file));
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, unique.length) }, worker));
    const problems = new Map<string, ImageProblems>();
    for (const p of pending) {
      const outcome = outcomes.get(p.absolute)!;
      // a symlink out of the roots is never an example to leave out: it refuses the set, skipping or not
      if ('refused' in outcome) throw outcome.refused;
      if ('sha256' in outcome) {
        p.image.sha256 = outcome.sha256;
        continue;
      }
      const [code, detail]: [SkippableProblem, string] = 'missing' in outcome ? ['MISSING_IMAGE', outcome.missing] : ['BAD_IMAGE', outcome.undecodable];
      const reason = `'${p.field}' = '${p.image.path}' ${detail}`;
      const id = p.where.exampleId;
      if (!options.skipInvalid || id === undefined) throw new ProbeSetError(code, reason, p.where);
      const known = problems.get(id);
      if (known) known.reasons.push(reason);
      else problems.set(id, { code, reasons: [reason] });
    }
    return problems;
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
