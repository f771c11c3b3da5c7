/**
 * A merge recipe as a {@link WeightSource}: each tensor is composed on
 * request from the models' tensors, so a variant is run without a merged
 * file. Only the tensors one request needs are read, nothing is kept after it.
 */
import { Checkpoint } from '../checkpoint/index.js';
import type { ModelConfig } from '../model/config.js';
import { CheckpointWeights, sliceRows, type WeightSource } from '../runtime/weights.js';
import { ModelMismatchError } from './errors.js';
import { covers, evaluateParam, gradientPosition, type ResolvedOperation, resolveOperation } from './plan.js';
import { type MergeRecipe, type ModelId, type OperationKind, validateRecipe } from './recipe.js';
import { TensorComposer } from './tensor-composer.js';
import { classifyTensor } from './tensor-names.js';

/** Options of {@link MergedWeights.create}. */
export interface MergedWeightsOptions {
  /** the recipe (validated here) */
  recipe: MergeRecipe;
  /** a source for the base and every donor */
  models: ReadonlyMap<ModelId, WeightSource> | Readonly<Record<ModelId, WeightSource>>;
  /** tensor shapes per model, when known (checked for equality; {@link MergedWeights.tensorShape} reports the base's) */
  shapes?: ReadonlyMap<ModelId, ReadonlyMap<string, readonly number[]>>;
  /**
   * a composed tensor whose models' tensors together exceed this many bytes
   * (float32) is composed a block of rows at a time instead of whole [512 MB]
   */
  composeInBlocksAbove?: number;
  /** elements per block when composing in blocks [4 M] */
  composeBlockElements?: number;
}

/** Elements per block when a tensor is composed in blocks. */
const BLOCK_ELEMENTS = 1 << 22;
const DEFAULT_COMPOSE_IN_BLOCKS_ABOVE = 512 * 2 ** 20;

/** How one tensor is made. */
export interface TensorPlan {
  /** index into the recipe's operations; null: taken from the base */
  operation: number | null;
  op: OperationKind | null;
  /** the models whose tensor is read */
  models: ModelId[];
}

/** Config fields that fix tensor shapes (and the model type); all models must agree on them. */
const DIMENSIONS: [string, (c: ModelConfig) => unknown][] = [
  ['model_type', (c) => c.modelType],
  ['hidden_size', (c) => c.hiddenSize],
  ['intermediate_size', (c) => c.intermediateSize],
  ['num_hidden_layers', (c) => c.numLayers],
  ['num_attention_heads', (c) => c.numHeads],
  ['num_key_value_heads', (c) => c.numKvHeads],
  ['head_dim', (c) => c.headDim],
  ['vocab_size', (c) => c.vocabSize],
  ['tie_word_embeddings', (c) => c.tieWordEmbeddings],
  ['vision_config', (c) => (c.vision ? JSON.stringify([c.vision.depth, c.vision.hiddenSize, c.vision.intermediateSize, c.vision.numHeads, c.vision.patchSize, c.vision.temporalPatchSize, c.vision.spatialMergeSize, c.vision.inChannels]) : null)],
];

function lookup(models: MergedWeightsOptions['models'], id: ModelId): WeightSource | undefined {
  return models instanceof Map ? models.get(id) : (models as Readonly<Record<ModelId, WeightSource>>)[id];
}

/** Composes a variant's tensors lazily from several sources. Create with {@link MergedWeights.create} or {@link MergedWeights.open}. */
export class MergedWeights implements WeightSource {
  readonly config: ModelConfig;
  readonly tensorNames: ReadonlySet<string>;
  /** the validated recipe */
  readonly recipe: MergeRecipe;
  /** its operations with defaults filled in */
  readonly operations: readonly ResolvedOperation[];
  readonly #sources: ReadonlyMap<ModelId, WeightSource>;
  readonly #shapes: ReadonlyMap<string, readonly number[]> | undefined;
  readonly #owned: Checkpoint[];
  readonly #blocksAbove: number;
  readonly #blockElements: number;
  /** composers of tensors read by rows (an embedding, a head), which keep what they gathered of the whole tensor */
  readonly #rowComposers = new Map<string, TensorComposer>();

  private constructor(recipe: MergeRecipe, sources: Map<ModelId, WeightSource>, shapes: ReadonlyMap<string, readonly number[]> | undefined, owned: Checkpoint[], blocks: { above: number; elements: number }) {
    const base = sources.get(recipe.base)!;
    this.config = base.config;
    this.tensorNames = base.tensorNames;
    this.recipe = recipe;
    this.operations = recipe.operations.map((op) => resolveOperation(op, recipe, base.config.numLayers));
    this.#sources = sources;
    this.#shapes = shapes;
    this.#owned = owned;
    this.#blocksAbove = blocks.above;
    this.#blockElements = blocks.elements;
  }

  /**
   * Validates the recipe against the models and checks that the models share
   * config dimensions, tensor names and (when given) shapes.
   * @throws RecipeError for a malformed recipe; ModelMismatchError naming the model and the field that differ
   */
  static create(options: MergedWeightsOptions): MergedWeights {
    return MergedWeights.#build(options, []);
  }

  static #build(options: MergedWeightsOptions, owned: Checkpoint[]): MergedWeights {
    const first = validateRecipe(options.recipe);
    const sources = new Map<ModelId, WeightSource>();
    for (const id of [first.base, ...first.donors]) {
      const s = lookup(options.models, id);
      if (!s) throw new ModelMismatchError('missing-model', id, id, `'models' has no source for model ${JSON.stringify(id)}, which the recipe names`);
      sources.set(id, s);
    }
    const base = sources.get(first.base)!;
    const recipe = validateRecipe(options.recipe, base.config.numLayers);
    for (const [id, s] of sources) {
      if (id === recipe.base) continue;
      for (const [key, get] of DIMENSIONS) {
        const mine = get(s.config);
        const theirs = get(base.config);
        if (mine !== theirs) {
          throw new ModelMismatchError('config', id, key, `model ${JSON.stringify(id)} has ${key} ${String(mine)} but the base ${JSON.stringify(recipe.base)} has ${String(theirs)}`);
        }
      }
      for (const name of base.tensorNames) {
        if (!s.tensorNames.has(name)) throw new ModelMismatchError('tensor-set', id, name, `model ${JSON.stringify(id)} has no tensor '${name}', which the base ${JSON.stringify(recipe.base)} has`);
      }
      for (const name of s.tensorNames) {
        if (!base.tensorNames.has(name)) throw new ModelMismatchError('tensor-set', id, name, `model ${JSON.stringify(id)} has a tensor '${name}' that the base ${JSON.stringify(recipe.base)} lacks`);
      }
      const baseShapes = options.shapes?.get(recipe.base);
      const shapes = options.shapes?.get(id);
      if (baseShapes && shapes) {
        for (const [name, shape] of baseShapes) {
          const other = shapes.get(name);
          if (other && other.join(',') !== shape.join(',')) {
            throw new ModelMismatchError('shape', id, name, `tensor '${name}' has shape [${other.join(', ')}] in model ${JSON.stringify(id)} but [${shape.join(', ')}] in the base ${JSON.stringify(recipe.base)}`);
          }
        }
      }
    }
    return new MergedWeights(recipe, sources, options.shapes?.get(recipe.base), owned, {
      above: options.composeInBlocksAbove ?? DEFAULT_COMPOSE_IN_BLOCKS_ABOVE,
      elements: options.composeBlockElements ?? BLOCK_ELEMENTS,
    });
  }

  /**
   * Opens one checkpoint directory per model id (shapes come from the
   * safetensors headers) and composes them; {@link MergedWeights.close} closes them.
   */
  static async open(recipe: MergeRecipe, dirs: Readonly<Record<ModelId, string>>): Promise<MergedWeights> {
    const owned: Checkpoint[] = [];
    try {
      const models = new Map<ModelId, WeightSource>();
      const shapes = new Map<ModelId, ReadonlyMap<string, readonly number[]>>();
      for (const [id, dir] of Object.entries(dirs)) {
        const ck = await Checkpoint.open(dir);
        owned.push(ck);
        models.set(id, await CheckpointWeights.over(ck));
        shapes.set(id, new Map([...ck.tensors].map(([name, info]) => [name, info.shape])));
      }
      return MergedWeights.#build({ recipe, models, shapes }, owned);
    } catch (e) {
      await Promise.all(owned.map((c) => c.close()));
      throw e;
    }
  }

  /** Closes the checkpoints {@link MergedWeights.open} opened (sources given to create stay open). */
  async close(): Promise<void> {
    this.#rowComposers.clear();
    await Promise.all(this.#owned.map((c) => c.close()));
  }

  /** The base's shape of a tensor, when shapes were given. */
  tensorShape(name: string): readonly number[] | undefined {
    return this.#shapes?.get(name);
  }

  #operationFor(name: string): number | null {
    const site = classifyTensor(name);
    const i = this.operations.findIndex((op) => covers(op, site));
    return i < 0 ? null : i;
  }

  /** Which operation makes a tensor and which models it reads. */
  planFor(name: string): TensorPlan {
    this.#check(name);
    const i = this.#operationFor(name);
    if (i === null) return { operation: null, op: null, models: [this.recipe.base] };
    const op = this.operations[i]!;
    switch (op.op) {
      case 'splice':
        return { operation: i, op: op.op, models: [op.model] };
      case 'interpolate':
        return { operation: i, op: op.op, models: [op.base, op.donor] };
      case 'slerp':
        return { operation: i, op: op.op, models: [op.base, op.model] };
      case 'linear':
        return { operation: i, op: op.op, models: op.models.map((m) => m.model) };
      default:
        return { operation: i, op: op.op, models: [op.base, ...op.models.map((m) => m.model)] };
    }
  }

  #check(name: string): void {
    if (!this.tensorNames.has(name)) throw new RangeError(`'name' ${JSON.stringify(name)} is not a tensor of this model`);
  }

  /**
   * Rows of one tensor. A tensor taken whole from one model (the base's, a
   * splice's) reads only those rows from it; a composed one is composed for
   * those rows alone, after one set of passes over the whole tensor for what
   * TIES and SLERP need of it (kept for the next rows).
   */
  async getFloat32Rows(name: string, start: number, count: number): Promise<Float32Array> {
    this.#check(name);
    const i = this.#operationFor(name);
    const op = i === null ? null : this.operations[i]!;
    const from = op === null ? this.recipe.base : op.op === 'splice' ? op.model : null;
    if (from !== null) {
      const source = this.#sources.get(from)!;
      if (source.getFloat32Rows) return source.getFloat32Rows(name, start, count);
      return sliceRows(await source.getFloat32(name), this.#rowsOf(name), start, count);
    }
    const rows = this.#rowsOf(name);
    if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 1 && start + count <= rows)) {
      throw new RangeError(`rows ${start}..${start + count - 1} are outside 0..${rows - 1}`);
    }
    let composer = this.#rowComposers.get(name);
    if (!composer) {
      const shape = this.#shapes?.get(name);
      // without shapes, a row of the base tells the width
      const width = shape ? shape.reduce((a, b) => a * b, 1) / rows : (await this.#firstRowOf(this.recipe.base, name)).length;
      composer = this.#composer(name, i!, rows, width);
      this.#rowComposers.set(name, composer);
    }
    return composer.rows(start, count);
  }

  /** Rows of a tensor: its first axis when shapes are known, else the vocabulary (row reads are for embeddings and heads). */
  #rowsOf(name: string): number {
    return this.#shapes?.get(name)?.[0] ?? this.config.vocabSize;
  }

  /** Row 0 of a model's tensor. */
  async #firstRowOf(id: ModelId, name: string): Promise<Float32Array> {
    const source = this.#sources.get(id)!;
    return source.getFloat32Rows ? source.getFloat32Rows(name, 0, 1) : sliceRows(await source.getFloat32(name), this.#rowsOf(name), 0, 1);
  }

  /** A composer of tensor `name` made by operation `i` (not a splice), seen as `rows` rows of `width` elements (Infinity: one row of unknown length). */
  #composer(name: string, i: number, rows: number, width: number): TensorComposer {
    const op = this.operations[i]!;
    if (op.op === 'splice') throw new TypeError('a splice is read, not composed');
    const site = classifyTensor(name);
    const t = gradientPosition(op, site);
    const read = async (id: ModelId, start: number, count: number): Promise<Float32Array> => {
      const source = this.#sources.get(id)!;
      if (start === 0 && count === rows) return source.getFloat32(name);
      if (source.getFloat32Rows) return source.getFloat32Rows(name, start, count);
      return sliceRows(await source.getFloat32(name), rows, start, count);
    };
    return new TensorComposer({
      name,
      op,
      rows,
      width,
      read,
      value: (p) => evaluateParam(p, name, site, t),
      seed: this.recipe.seed ?? 0,
      blockRows: Math.max(1, Math.floor(this.#blockElements / width)),
    });
  }

  /** The stored bytes of a tensor taken unchanged from one model (the base's, a splice's); undefined for a composed one. */
  storedKey(name: string): string | undefined {
    this.#check(name);
    const i = this.#operationFor(name);
    const op = i === null ? null : this.operations[i]!;
    const from = op === null ? this.recipe.base : op.op === 'splice' ? op.model : null;
    return from === null ? undefined : this.#sources.get(from)!.storedKey?.(name);
  }

  /**
   * Composes one tensor (float32). Tensors taken unchanged are the source's
   * own arrays: do not modify. A composed tensor whose models' tensors
   * together exceed `composeInBlocksAbove` is composed a block of rows at a
   * time (the same numbers), so only its result is ever held whole.
   */
  async getFloat32(name: string): Promise<Float32Array> {
    this.#check(name);
    const i = this.#operationFor(name);
    if (i === null) return this.#sources.get(this.recipe.base)!.getFloat32(name);
    const op = this.operations[i]!;
    if (op.op === 'splice') return this.#sources.get(op.model)!.getFloat32(name);
    const shape = this.#shapes?.get(name);
    const n = shape?.reduce((a, b) => a * b, 1);
    const rows = shape && shape.length >= 2 ? shape[0]! : 1;
    const composer = this.#composer(name, i, rows, n === undefined ? Infinity : n / rows);
    const wholeBytes = n === undefined ? 0 : 4 * n * this.planFor(name).models.length;
    return wholeBytes > this.#blocksAbove ? composer.whole() : composer.rows(0, rows);
  }
}
