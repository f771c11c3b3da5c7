/**
 * A merge recipe as a {@link WeightSource}: each tensor is composed on
 * request from the models' tensors, so a variant is run without a merged
 * file. Only the tensors one request needs are read, nothing is kept after it.
 */
import { Checkpoint } from '../checkpoint/index.js';
import type { ModelConfig } from '../model/config.js';
import { CheckpointWeights, sliceRows, type WeightSource } from '../runtime/weights.js';
import { ModelMismatchError } from './errors.js';
import { combineTaskVectors, dareStream, lerp, linearCombination, magnitudeTrim, randomDrop, slerp, taskVector } from './methods.js';
import { covers, evaluateParam, gradientPosition, type ResolvedOperation, resolveOperation } from './plan.js';
import { type MergeRecipe, type ModelId, type OperationKind, validateRecipe } from './recipe.js';
import { classifyTensor } from './tensor-names.js';

/** Options of {@link MergedWeights.create}. */
export interface MergedWeightsOptions {
  /** the recipe (validated here) */
  recipe: MergeRecipe;
  /** a source for the base and every donor */
  models: ReadonlyMap<ModelId, WeightSource> | Readonly<Record<ModelId, WeightSource>>;
  /** tensor shapes per model, when known (checked for equality; {@link MergedWeights.tensorShape} reports the base's) */
  shapes?: ReadonlyMap<ModelId, ReadonlyMap<string, readonly number[]>>;
}

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
  /** the last tensor composed whole for row reads (an embedding or head merged by a method that needs the whole tensor) */
  #lastComposed: { name: string; data: Promise<Float32Array> } | undefined;

  private constructor(recipe: MergeRecipe, sources: Map<ModelId, WeightSource>, shapes: ReadonlyMap<string, readonly number[]> | undefined, owned: Checkpoint[]) {
    const base = sources.get(recipe.base)!;
    this.config = base.config;
    this.tensorNames = base.tensorNames;
    this.recipe = recipe;
    this.operations = recipe.operations.map((op) => resolveOperation(op, recipe, base.config.numLayers));
    this.#sources = sources;
    this.#shapes = shapes;
    this.#owned = owned;
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
    return new MergedWeights(recipe, sources, options.shapes?.get(recipe.base), owned);
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
    this.#lastComposed = undefined;
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

  async #read(id: ModelId, name: string): Promise<Float32Array> {
    return this.#sources.get(id)!.getFloat32(name);
  }

  /** Reads one tensor from each model, checking they have the same number of elements. */
  async #readAll(ids: readonly ModelId[], name: string): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const id of ids) {
      const data = await this.#read(id, name);
      if (out.length > 0 && data.length !== out[0]!.length) {
        throw new ModelMismatchError('shape', id, name, `tensor '${name}' has ${data.length} elements in model ${JSON.stringify(id)} but ${out[0]!.length} in model ${JSON.stringify(ids[0])}`);
      }
      out.push(data);
    }
    return out;
  }

  /**
   * Rows of one tensor. A tensor taken whole from one model (the base's, a
   * splice's) reads only those rows from it; a composed tensor is composed
   * whole and sliced, since TIES, DARE and SLERP depend on the whole tensor.
   */
  async getFloat32Rows(name: string, start: number, count: number): Promise<Float32Array> {
    this.#check(name);
    const i = this.#operationFor(name);
    const op = i === null ? null : this.operations[i]!;
    const from = op === null ? this.recipe.base : op.op === 'splice' ? op.model : null;
    if (from !== null) {
      const source = this.#sources.get(from)!;
      if (source.getFloat32Rows) return source.getFloat32Rows(name, start, count);
    }
    const shape = this.#shapes?.get(name);
    // a lookup asks for rows one token at a time: compose the tensor once for all of them, not once per row
    if (this.#lastComposed?.name !== name) {
      const memo = { name, data: this.getFloat32(name) };
      memo.data.catch(() => this.#lastComposed === memo && (this.#lastComposed = undefined));
      this.#lastComposed = memo;
    }
    const whole = this.#lastComposed.data;
    return sliceRows(await whole, shape?.[0] ?? this.config.vocabSize, start, count);
  }

  /** The stored bytes of a tensor taken unchanged from one model (the base's, a splice's); undefined for a composed one. */
  storedKey(name: string): string | undefined {
    this.#check(name);
    const i = this.#operationFor(name);
    const op = i === null ? null : this.operations[i]!;
    const from = op === null ? this.recipe.base : op.op === 'splice' ? op.model : null;
    return from === null ? undefined : this.#sources.get(from)!.storedKey?.(name);
  }

  /** Composes one tensor (float32). Tensors taken unchanged are the source's own arrays: do not modify. */
  async getFloat32(name: string): Promise<Float32Array> {
    this.#check(name);
    const i = this.#operationFor(name);
    if (i === null) return this.#read(this.recipe.base, name);
    const op = this.operations[i]!;
    const site = classifyTensor(name);
    const t = gradientPosition(op, site);
    const value = (p: Parameters<typeof evaluateParam>[0]): number => evaluateParam(p, name, site, t);
    switch (op.op) {
      case 'splice':
        return this.#read(op.model, name);
      case 'interpolate': {
        const [a, b] = await this.#readAll([op.base, op.donor], name);
        return lerp(a!, b!, value(op.alpha));
      }
      case 'slerp': {
        const [a, b] = await this.#readAll([op.base, op.model], name);
        return slerp(a!, b!, value(op.t), op.dotThreshold);
      }
      case 'linear': {
        const xs = await this.#readAll(op.models.map((m) => m.model), name);
        return linearCombination(xs, op.models.map((m) => value(m.weight)), op.normalize);
      }
      default: {
        const [base, ...xs] = await this.#readAll([op.base, ...op.models.map((m) => m.model)], name);
        const deltas = xs.map((x, k) => {
          const d = taskVector(x, base!);
          const density = value(op.models[k]!.density);
          if (op.op === 'ties') return magnitudeTrim(d, density);
          if (op.op === 'dare_linear' || op.op === 'dare_ties') return randomDrop(d, density, op.rescale, dareStream(this.recipe.seed ?? 0, name, k));
          return d;
        });
        return combineTaskVectors({
          base: base!,
          deltas,
          weights: op.models.map((m) => value(m.weight)),
          consensus: op.op === 'ties' || op.op === 'dare_ties',
          normalize: op.normalize,
          lambda: op.lambda,
        });
      }
    }
  }
}
