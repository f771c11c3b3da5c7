/**
 * Where the runtime gets its tensors. A {@link WeightSource} is the only thing
 * a runner needs from a model, so a merge recipe can implement it by composing
 * tensors of several checkpoints lazily, one layer at a time.
 */
import { stat } from 'node:fs/promises';
import { Checkpoint } from '../checkpoint/index.js';
import type { AllowedRoots } from '../fs/confined-files.js';
import { type ModelConfig, parseModelConfig } from '../model/config.js';

/** The parsed config of an open checkpoint, with the files beside config.json that complete it. */
export async function modelConfigOf(checkpoint: Checkpoint): Promise<ModelConfig> {
  return parseModelConfig(checkpoint.config, {
    generationConfig: await checkpoint.readOptionalJson('generation_config.json'),
    preprocessorConfig: await checkpoint.readOptionalJson('preprocessor_config.json'),
  });
}

/** A model's configuration and tensors, read on request as float32. */
export interface WeightSource {
  /** parsed config.json */
  readonly config: ModelConfig;
  /** every tensor the source can produce */
  readonly tensorNames: ReadonlySet<string>;
  /**
   * One tensor, row-major, as float32. Callers must not modify the array
   * (a source may hand out the same array twice).
   */
  getFloat32(name: string): Promise<Float32Array>;
  /**
   * Rows start..start+count-1 of a tensor (first axis), as float32, reading
   * only those rows: embedding lookups and the head's vocabulary pieces use
   * it so a [V, H] matrix is never widened whole. Optional: without it the
   * whole tensor is read.
   */
  getFloat32Rows?(name: string, start: number, count: number): Promise<Float32Array>;
  /**
   * A name for the stored bytes a tensor is read from unchanged (file, its
   * size and modification time, offset), equal for every source that reads
   * those bytes: a checkpoint and a variant spliced from it then share their
   * widened layers under the budget. Undefined for a composed tensor.
   * Optional: without it a source's widened tensors are its own.
   * A source that gives a key promises that every read of that tensor
   * returns a new array nobody else holds: the weight cache reuses the
   * memory of such arrays once it has dropped them (float32-pool.ts).
   */
  storedKey?(name: string): string | undefined;
}

/** A {@link WeightSource} over an open checkpoint directory. */
export class CheckpointWeights implements WeightSource {
  readonly config: ModelConfig;
  readonly tensorNames: ReadonlySet<string>;
  readonly #checkpoint: Checkpoint;
  readonly #owned: boolean;
  /** file -> path, size and mtime when opened */
  readonly #fileIds: ReadonlyMap<string, string>;

  private constructor(checkpoint: Checkpoint, owned: boolean, config: ModelConfig, fileIds: ReadonlyMap<string, string>) {
    this.#checkpoint = checkpoint;
    this.#owned = owned;
    this.config = config;
    this.tensorNames = new Set(checkpoint.tensors.keys());
    this.#fileIds = fileIds;
  }

  static async #fileIdsOf(checkpoint: Checkpoint): Promise<Map<string, string>> {
    const files = new Set([...checkpoint.tensors.values()].map((t) => t.file));
    const ids = new Map<string, string>();
    for (const file of files) {
      const st = await stat(file);
      ids.set(file, `${file}:${st.size}:${st.mtimeMs}`);
    }
    return ids;
  }

  /**
   * Opens the checkpoint directory with its companions (generation_config.json,
   * preprocessor_config.json); {@link CheckpointWeights.close} closes it.
   */
  static async open(dir: string, options: { roots?: AllowedRoots } = {}): Promise<CheckpointWeights> {
    const checkpoint = await Checkpoint.open(dir, options);
    try {
      return new CheckpointWeights(checkpoint, true, await modelConfigOf(checkpoint), await CheckpointWeights.#fileIdsOf(checkpoint));
    } catch (e) {
      await checkpoint.close();
      throw e;
    }
  }

  /** Wraps a checkpoint the caller keeps owning (close does not close it). */
  static async over(checkpoint: Checkpoint): Promise<CheckpointWeights> {
    return new CheckpointWeights(checkpoint, false, await modelConfigOf(checkpoint), await CheckpointWeights.#fileIdsOf(checkpoint));
  }

  /** The checkpoint directory. */
  get dir(): string {
    return this.#checkpoint.dir;
  }

  getFloat32(name: string): Promise<Float32Array> {
    return this.#checkpoint.readFloat32(name);
  }

  getFloat32Rows(name: string, start: number, count: number): Promise<Float32Array> {
    return this.#checkpoint.readFloat32Rows(name, start, count);
  }

  storedKey(name: string): string | undefined {
    const info = this.#checkpoint.tensors.get(name);
    return info ? `${this.#fileIds.get(info.file)}@${info.dataOffset}+${info.byteLength}:${info.dtype}` : undefined;
  }

  /** Closes the checkpoint if this object opened it. */
  async close(): Promise<void> {
    if (this.#owned) await this.#checkpoint.close();
  }
}

/** A {@link WeightSource} over tensors held in memory (tests, benchmarks, composed models). */
export class MemoryWeights implements WeightSource {
  readonly tensorNames: ReadonlySet<string>;

  constructor(
    readonly config: ModelConfig,
    private readonly tensors: ReadonlyMap<string, Float32Array>,
  ) {
    this.tensorNames = new Set(tensors.keys());
  }

  async getFloat32(name: string): Promise<Float32Array> {
    const t = this.tensors.get(name);
    if (!t) throw new RangeError(`'name' ${JSON.stringify(name)} is not a tensor of this model`);
    return t;
  }
}

/** Rows of a row-major tensor held whole (sources without a cheaper row read). */
export function sliceRows(data: Float32Array, rows: number, start: number, count: number): Float32Array {
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 1 && start + count <= rows)) {
    throw new RangeError(`rows ${start}..${start + count - 1} are outside 0..${rows - 1}`);
  }
  const width = data.length / rows;
  return data.slice(start * width, (start + count) * width);
}
