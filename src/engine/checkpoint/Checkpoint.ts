/**
 * A Hugging Face style checkpoint directory: `config.json` plus one or more
 * `*.safetensors` files, sharded through `model.safetensors.index.json` when
 * that file exists. Opening reads and validates every header but no tensor
 * data; tensors are read one at a time, by offset, on request.
 */
import type { FileHandle } from 'node:fs/promises';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { confinedFileExists, FileAccessError, hashConfinedFile, hashOpenFile, JsonSyntaxError, openConfined, parseJsonNamingPlace, readConfinedText, type AllowedRoots } from '../fs/confined-files.js';
import { CheckpointError } from './CheckpointError.js';
import { DTYPE_BYTES, isFloatDtype, readAsFloat32 } from './dtypes.js';
import { canonicalJson, fileCacheKey, sha256Hex, type FingerprintCache } from './fingerprint.js';
import { elementCount, readFully, readSafetensorsHeader, type TensorInfo } from './safetensors.js';

export const CONFIG_FILE = 'config.json';
export const INDEX_FILE = 'model.safetensors.index.json';
const FINGERPRINT_VERSION = 'frankenscope-checkpoint-fingerprint-v2';

/** Files beside the weights that change what a model computes from text: part of its identity. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

async function readJsonObject(
  path: string,
  roots: AllowedRoots,
  missing: 'CONFIG_MISSING' | 'INDEX_INVALID',
  invalid: 'CONFIG_INVALID' | 'INDEX_INVALID',
): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readConfinedText(path, roots);
  } catch (e) {
    if (e instanceof FileAccessError && e.reason === 'MISSING') throw new CheckpointError(missing, `${path} is missing`, { file: path });
    throw e;
  }
  let json: unknown;
  try {
    json = parseJsonNamingPlace(text, path);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new CheckpointError(invalid, e.message, { file: path });
    throw e;
  }
  if (!isPlainObject(json)) throw new CheckpointError(invalid, `${path} does not hold a JSON object`, { file: path });
  return json;
}

/** Tensors of a sharded checkpoint, as its index declares them. */
async function tensorsFromIndex(dir: string, roots: AllowedRoots): Promise<TensorInfo[]> {
  const indexPath = join(dir, INDEX_FILE);
  const index = await readJsonObject(indexPath, roots, 'INDEX_INVALID', 'INDEX_INVALID');
  const weightMap = index.weight_map;
  if (!isPlainObject(weightMap)) {
    throw new CheckpointError('INDEX_INVALID', `'weight_map' in ${indexPath} is missing or not an object`, { file: indexPath });
  }
  const byFile = new Map<string, string[]>();
  for (const [tensor, file] of Object.entries(weightMap)) {
    if (typeof file !== 'string' || file === '' || isAbsolute(file) || normalize(file).split(sep).includes('..')) {
      throw new CheckpointError('INDEX_INVALID', `'weight_map.${tensor}' in ${indexPath} is ${JSON.stringify(file)}, not a file name inside the checkpoint`, { file: indexPath, tensor });
    }
    byFile.set(file, [...(byFile.get(file) ?? []), tensor]);
  }
  const out: TensorInfo[] = [];
  for (const [file, names] of [...byFile].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const path = join(dir, file);
    if (!(await confinedFileExists(path, roots))) {
      throw new CheckpointError('INDEX_FILE_MISSING', `${indexPath} maps tensor '${names[0]}' to ${path}, which does not exist`, { file: path, tensor: names[0]! });
    }
    const header = await readSafetensorsHeader(path, roots);
    const inFile = new Map(header.tensors.map((t) => [t.name, t]));
    for (const name of names) {
      const info = inFile.get(name);
      if (!info) throw new CheckpointError('INDEX_TENSOR_MISSING', `${indexPath} maps tensor '${name}' to ${path}, which does not contain it`, { file: path, tensor: name });
      out.push(info);
    }
  }
  return out;
}

/** Tensors of every `*.safetensors` file in the directory (no index). */
async function tensorsFromFiles(dir: string, roots: AllowedRoots): Promise<TensorInfo[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.name.endsWith('.safetensors') && !e.isDirectory());
  const files = entries.map((e) => join(dir, e.name)).sort();
  if (files.length === 0) throw new CheckpointError('NO_SAFETENSORS', `${dir} contains no *.safetensors file`, { file: dir });
  const seen = new Map<string, string>();
  const out: TensorInfo[] = [];
  for (const file of files) {
    for (const info of (await readSafetensorsHeader(file, roots)).tensors) {
      const first = seen.get(info.name);
      if (first !== undefined) {
        throw new CheckpointError('DUPLICATE_TENSOR', `tensor '${info.name}' appears in both ${first} and ${file}`, { file, tensor: info.name });
      }
      seen.set(info.name, file);
      out.push(info);
    }
  }
  return out;
}

/** An open checkpoint directory. Call {@link Checkpoint.close} when done. */
export class Checkpoint {
  /** absolute path of the directory */
  readonly dir: string;
  readonly config: Record<string, unknown>;
  /** every tensor, sorted by name */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** every later read (tensor data, fingerprint) is confined to these as opening was */
  readonly #roots: AllowedRoots;
  readonly #handles = new Map<string, Promise<FileHandle>>();
  #fingerprint: Promise<string> | undefined;
  #closed = false;

  private constructor(dir: string, roots: AllowedRoots, config: Record<string, unknown>, tensors: TensorInfo[]) {
    this.dir = dir;
    this.#roots = roots;
    this.config = config;
    const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.tensors = new Map(sorted.map((t) => [t.name, Object.freeze({ ...t, shape: Object.freeze([...t.shape]) as number[] })]));
  }

  /**
   * Opens a checkpoint directory: reads `config.json` and every safetensors
   * header and validates them. No tensor data is read. Every file must be a
   * regular file whose real path lies inside `options.roots` (default: the
   * directory itself), so a symlink out of the allowed folders is refused.
   * @throws CheckpointError with a code naming the violated rule
   * @throws FileAccessError when a file resolves outside the roots or is not a regular file
   */
  static async open(dir: string, options: { roots?: AllowedRoots } = {}): Promise<Checkpoint> {
    const abs = resolve(dir);
    let st;
    try {
      st = await stat(abs);
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') throw new CheckpointError('DIR_NOT_FOUND', `checkpoint directory ${abs} does not exist`, { file: abs });
      throw e;
    }
    if (!st.isDirectory()) throw new CheckpointError('NOT_A_DIRECTORY', `checkpoint path ${abs} is not a directory`, { file: abs });
    const roots = options.roots ?? [abs];
    const config = await readJsonObject(join(abs, CONFIG_FILE), roots, 'CONFIG_MISSING', 'CONFIG_INVALID');
    const tensors = (await confinedFileExists(join(abs, INDEX_FILE), roots)) ? await tensorsFromIndex(abs, roots) : await tensorsFromFiles(abs, roots);
    if (tensors.length === 0) throw new CheckpointError('NO_SAFETENSORS', `checkpoint ${abs} holds no tensors`, { file: abs });
    return new Checkpoint(abs, roots, config, tensors);
  }

  /**
   * An optional JSON file of the directory (generation_config.json,
   * preprocessor_config.json), read under the same confinement as the rest;
   * undefined when the file does not exist.
   * @throws CheckpointError CONFIG_INVALID when it is not a JSON object
   */
  async readOptionalJson(name: string): Promise<Record<string, unknown> | undefined> {
    const path = join(this.dir, name);
    if (!(await confinedFileExists(path, this.#roots))) return undefined;
    return readJsonObject(path, this.#roots, 'CONFIG_MISSING', 'CONFIG_INVALID');
  }

  /** Total number of elements over all tensors. */
  parameterCount(): number {
    let n = 0;
    for (const t of this.tensors.values()) n += elementCount(t.shape);
    return n;
  }

  /** The dtype holding most parameters (ties: the alphabetically first). */
  dominantDtype(): string {
    const counts = new Map<string, number>();
    for (const t of this.tensors.values()) counts.set(t.dtype, (counts.get(t.dtype) ?? 0) + elementCount(t.shape));
    let best = '';
    let bestCount = -1;
    for (const [dtype, count] of [...counts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (count > bestCount) [best, bestCount] = [dtype, count];
    }
    return best;
  }

  #info(name: string): TensorInfo {
    if (this.#closed) throw new CheckpointError('CLOSED', `checkpoint ${this.dir} is closed`, { file: this.dir, tensor: name });
    const info = this.tensors.get(name);
    if (!info) throw new CheckpointError('TENSOR_NOT_FOUND', `checkpoint ${this.dir} has no tensor '${name}'`, { file: this.dir, tensor: name });
    return info;
  }

  #handle(file: string): Promise<FileHandle> {
    let h = this.#handles.get(file);
    if (!h) {
      h = openConfined(file, this.#roots);
      this.#handles.set(file, h);
      h.catch(() => this.#handles.delete(file));
    }
    return h;
  }

  /** Reads one tensor's raw little-endian bytes (and nothing else). */
  async readRaw(name: string): Promise<Uint8Array> {
    const info = this.#info(name);
    const bytes = new Uint8Array(info.byteLength);
    await readFully(await this.#handle(info.file), bytes, info.dataOffset, info.file);
    return bytes;
  }

  /**
   * Reads one tensor and converts it to float32 (F32, F16, BF16 exactly; F64 rounded).
   * Only that tensor's bytes are read.
   * @throws CheckpointError `TENSOR_NOT_FOUND`, `UNSUPPORTED_DTYPE` (integer, bool and 8-bit float dtypes), `CLOSED`
   */
  async readFloat32(name: string): Promise<Float32Array> {
    const info = this.#info(name);
    if (!isFloatDtype(info.dtype)) {
      throw new CheckpointError('UNSUPPORTED_DTYPE', `tensor '${name}' in ${info.file} has dtype ${info.dtype}, which cannot be read as float32 (F32, F16, BF16, F64 only)`, { file: info.file, tensor: name });
    }
    const handle = await this.#handle(info.file);
    return readAsFloat32(info.byteLength / DTYPE_BYTES[info.dtype]!, info.dtype, (target, at) => readFully(handle, target, info.dataOffset + at, info.file));
  }

  /**
   * Reads rows start..start+count-1 (first axis) of one tensor as float32:
   * only those rows' bytes are read, so an embedding lookup or a piece of a
   * [V, H] head costs its own size, not the matrix's.
   * @throws CheckpointError as {@link Checkpoint.readFloat32}; RangeError for rows outside the tensor
   */
  async readFloat32Rows(name: string, start: number, count: number): Promise<Float32Array> {
    const info = this.#info(name);
    if (!isFloatDtype(info.dtype)) {
      throw new CheckpointError('UNSUPPORTED_DTYPE', `tensor '${name}' in ${info.file} has dtype ${info.dtype}, which cannot be read as float32 (F32, F16, BF16, F64 only)`, { file: info.file, tensor: name });
    }
    const rows = info.shape[0] ?? 1;
    if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 1 && start + count <= rows)) {
      throw new RangeError(`rows ${start}..${start + count - 1} are outside tensor '${name}' (${rows} rows)`);
    }
    const rowBytes = info.byteLength / rows;
    const handle = await this.#handle(info.file);
    return readAsFloat32((count * rowBytes) / DTYPE_BYTES[info.dtype]!, info.dtype, (target, at) => readFully(handle, target, info.dataOffset + start * rowBytes + at, info.file));
  }

  /**
   * Content fingerprint (sha256 hex) of the checkpoint: the canonical config
   * and, for every tensor in name order, its name, dtype, shape, offset and
   * the sha256 of the whole file holding it (header and data). Paths never
   * enter it, so it survives renames of the directory or of shard files.
   * Per-file digests are looked up in `cache` (key: absolute path, size,
   * mtime) before hashing.
   */
  fingerprint(cache?: FingerprintCache): Promise<string> {
    if (this.#closed) return Promise.reject(new CheckpointError('CLOSED', `checkpoint ${this.dir} is closed`, { file: this.dir }));
    if (!this.#fingerprint) {
      this.#fingerprint = this.#computeFingerprint(cache);
      this.#fingerprint.catch(() => (this.#fingerprint = undefined));
    }
    return this.#fingerprint;
  }

  async #computeFingerprint(cache?: FingerprintCache): Promise<string> {
    const digests = new Map<string, string>();
    for (const file of new Set([...this.tensors.values()].map((t) => t.file))) {
      // size and mtime come from the confined handle, so a cached digest is never trusted for a file that may not be read
      const handle = await openConfined(file, this.#roots);
      try {
        const st = await handle.stat();
        const key = fileCacheKey(file, st.size, st.mtimeMs);
        let digest = await cache?.get(key);
        if (digest === undefined || !/^[0-9a-f]{64}$/.test(digest)) {
          digest = await hashOpenFile(handle);
          await cache?.set(key, digest);
        }
        digests.set(file, digest);
      } finally {
        await handle.close().catch(() => undefined);
      }
    }
    const lines = [FINGERPRINT_VERSION, `config\t${sha256Hex(canonicalJson(this.config))}`];
    for (const t of this.tensors.values()) lines.push(`${t.name}\t${t.dtype}\t${t.shape.join('x')}\t${t.dataOffset}\t${digests.get(t.file)}`);
    // a different tokenizer changes prompts, answers and scores, so it must change the identity too
    for (const name of TOKENIZER_FILES) {
      const path = join(this.dir, name);
      if (await confinedFileExists(path, this.#roots)) lines.push(`file\t${name}\t${await hashConfinedFile(path, this.#roots)}`);
    }
    return sha256Hex(lines.join('\n'));
  }

  /** Closes the open file handles; the checkpoint cannot be read afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    const results = await Promise.allSettled(handles.map(async (h) => (await h).close()));
    const failed = results.find((r) => r.status === 'rejected' && !(errno(r.reason) === 'ENOENT'));
    if (failed && failed.status === 'rejected') throw failed.reason;
  }
}
