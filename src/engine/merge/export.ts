/**
 * Materialises a weight source (typically a merged variant) as a checkpoint
 * directory: safetensors shards, config.json and the tokenizer files of the
 * base. The directory appears atomically: everything is written into a
 * temporary sibling that is renamed into place at the end.
 */
import { lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Checkpoint, CONFIG_FILE, DTYPE_BYTES, INDEX_FILE, type StorableDtype, writeSafetensors, type TensorToWrite } from '../checkpoint/index.js';
import { confinedFileExists, readConfinedFile, type AllowedRoots } from '../fs/confined-files.js';
import type { WeightSource } from '../runtime/weights.js';
import { MERGEKIT_CONFIG_FILE } from './mergekit.js';

/** Files copied from the base directory when present (tokenizer, generation and processor settings). */
export const COPIED_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json', 'vocab.json', 'merges.txt',
  'tokenizer.model', 'generation_config.json', 'preprocessor_config.json', 'chat_template.json', 'chat_template.jinja',
];

/** Options of {@link exportVariant}. */
export interface ExportOptions {
  /** stored dtype of every tensor (F32 keeps merged values bit for bit) */
  dtype: StorableDtype;
  /** the base checkpoint directory: config.json, tokenizer files and tensor shapes come from it */
  copyFrom: string;
  /** a new shard starts when the next tensor would take a shard past this many bytes [2e9] */
  maxShardBytes?: number;
  /** extra safetensors metadata (`format: pt` is always written) */
  metadata?: Record<string, string>;
  /** every file read from `copyFrom` must resolve inside these [`copyFrom` itself] */
  roots?: AllowedRoots;
  /** the recipe as a mergekit config, written as `mergekit_config.yml` (mergekit's name for the config beside a merge) */
  mergekitConfig?: string;
}

/** What {@link exportVariant} wrote. */
export interface ExportResult {
  dir: string;
  /** safetensors file names, in order */
  shards: string[];
  tensorCount: number;
  /** bytes of tensor data */
  totalBytes: number;
}

/** lstat, so a dangling symlink counts as something in the way. */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

function shapeOf(weights: WeightSource, base: Checkpoint, name: string): number[] {
  const own = (weights as { tensorShape?: (n: string) => readonly number[] | undefined }).tensorShape?.(name);
  const shape = own ?? base.tensors.get(name)?.shape;
  if (!shape) throw new RangeError(`tensor '${name}' has no shape: it is not in the base checkpoint ${base.dir} ('copyFrom')`);
  return [...shape];
}

/**
 * Writes every tensor of `weights` (sorted by name) to a new directory `dir`,
 * sharded (`model-00001-of-0000N.safetensors` plus `model.safetensors.index.json`)
 * when the data exceeds `maxShardBytes`, else one `model.safetensors`.
 * @throws Error when `dir` already exists; RangeError when a tensor's size disagrees with its shape
 */
export async function exportVariant(weights: WeightSource, dir: string, options: ExportOptions): Promise<ExportResult> {
  const target = resolve(dir);
  const maxShard = options.maxShardBytes ?? 2e9;
  if (!(maxShard > 0)) throw new RangeError(`'maxShardBytes' must be > 0, got ${maxShard}`);
  if (options.dtype !== 'F32' && options.dtype !== 'F16' && options.dtype !== 'BF16') {
    throw new TypeError(`'dtype' must be F32, F16 or BF16, got ${JSON.stringify(options.dtype)}`);
  }
  if (await exists(target)) throw new Error(`'dir' ${target} already exists; exportVariant writes a new directory`);
  const roots = options.roots ?? [resolve(options.copyFrom)];
  const base = await Checkpoint.open(options.copyFrom, { roots });
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Date.now()}`);
  try {
    await mkdir(tmp, { recursive: true });
    const names = [...weights.tensorNames].sort();
    const elementBytes = DTYPE_BYTES[options.dtype]!;
    // plan shards from shapes alone, so only one shard's tensors are ever in memory
    const plan: { name: string; shape: number[]; bytes: number }[][] = [[]];
    let shardBytes = 0;
    let totalBytes = 0;
    for (const name of names) {
      const shape = shapeOf(weights, base, name);
      const bytes = shape.reduce((a, b) => a * b, 1) * elementBytes;
      if (shardBytes > 0 && shardBytes + bytes > maxShard) {
        plan.push([]);
        shardBytes = 0;
      }
      plan[plan.length - 1]!.push({ name, shape, bytes });
      shardBytes += bytes;
      totalBytes += bytes;
    }
    const count = plan.length;
    const files = count === 1 ? ['model.safetensors'] : plan.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.safetensors`);
    const weightMap: Record<string, string> = {};
    const metadata = { ...options.metadata, format: 'pt' };
    for (let s = 0; s < count; s++) {
      const tensors: TensorToWrite[] = [];
      for (const { name, shape } of plan[s]!) {
        const data = await weights.getFloat32(name);
        const expected = shape.reduce((a, b) => a * b, 1);
        if (data.length !== expected) throw new RangeError(`tensor '${name}' has ${data.length} elements but shape [${shape.join(', ')}] needs ${expected}`);
        tensors.push({ name, dtype: options.dtype, shape, data });
        weightMap[name] = files[s]!;
      }
      await writeSafetensors(join(tmp, files[s]!), tensors, metadata);
    }
    if (count > 1) {
      await writeFile(join(tmp, INDEX_FILE), `${JSON.stringify({ metadata: { total_size: totalBytes }, weight_map: weightMap }, null, 2)}\n`);
    }
    // the config Checkpoint.open read (confined); reading the file again could meet a different one
    const config = structuredClone(base.config);
    config.torch_dtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[options.dtype];
    await writeFile(join(tmp, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
    for (const file of COPIED_FILES) {
      const from = join(base.dir, file);
      if (await confinedFileExists(from, roots)) await writeFile(join(tmp, file), await readConfinedFile(from, roots));
    }
    if (options.mergekitConfig !== undefined) await writeFile(join(tmp, MERGEKIT_CONFIG_FILE), options.mergekitConfig);
    await rename(tmp, target);
    return { dir: target, shards: files, tensorCount: names.length, totalBytes };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    await base.close();
  }
}
