/**
 * Where the runtime gets its tensors. A {@link WeightSource} is the only thing
 * a runner needs from a model, so a merge recipe can implement it by composing
 * tensors of several checkpoints lazily, one layer at a time.
 */
import { Checkpoint } from '../checkpoint/index.js';
import { type ModelConfig, parseModelConfig } from '../model/config.js';

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
}

/** A {@link WeightSource} over an open checkpoint directory. */
export class CheckpointWeights implements WeightSource {
  readonly config: ModelConfig;
  readonly tensorNames: ReadonlySet<string>;
  readonly #checkpoint: Checkpoint;
  readonly #owned: boolean;

  private constructor(checkpoint: Checkpoint, owned: boolean) {
    this.#checkpoint = checkpoint;
    this.#owned = owned;
    this.config = parseModelConfig(checkpoint.config);
    this.tensorNames = new Set(checkpoint.tensors.keys());
  }

  /** Opens the checkpoint directory; {@link CheckpointWeights.close} closes it. */
  static async open(dir: string): Promise<CheckpointWeights> {
    const checkpoint = await Checkpoint.open(dir);
    try {
      return new CheckpointWeights(checkpoint, true);
    } catch (e) {
      await checkpoint.close();
      throw e;
    }
  }

  /** Wraps a checkpoint the caller keeps owning (close does not close it). */
  static over(checkpoint: Checkpoint): CheckpointWeights {
    return new CheckpointWeights(checkpoint, false);
  }

  /** The checkpoint directory. */
  get dir(): string {
    return this.#checkpoint.dir;
  }

  getFloat32(name: string): Promise<Float32Array> {
    return this.#checkpoint.readFloat32(name);
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
