/**
 * Per-block weight bundles (role -> tensor, as the piece graphs name their
 * inputs), read from a {@link WeightSource} on first use and kept in a cache
 * bounded by bytes (by default the thread's shared weight-memory budget), so
 * one layer at a time is enough for models larger than memory and repeated
 * runs read nothing while the model fits.
 */
import type { ModelConfig } from '../model/config.js';
import { type F32Tensor, sizeOf } from './tensor.js';
import { sharedWeightCache, WeightCache } from './weight-cache.js';
import type { WeightSource } from './weights.js';

/** Graph-input name -> tensor. */
export type Bundle = Record<string, F32Tensor>;

/** The three piece bundles of one decoder layer or vision block. */
export interface BlockWeights {
  attentionInput: Bundle;
  attentionCore: Bundle;
  mlp: Bundle;
}

/** Options of {@link ModelWeights}. */
export interface ModelWeightsOptions {
  /**
   * bytes of widened weights this model keeps on its own (eviction as in
   * {@link WeightCache}) [none: the thread's shared budget, FRANKENSCOPE_WEIGHT_MEMORY_GB]
   */
  maxCachedBytes?: number;
  /** the cache to share (overrides `maxCachedBytes`) */
  cache?: WeightCache;
  /** vocabulary rows per head piece [as many as fit in 64 MB of float32] */
  headChunkRows?: number;
}

/** Widened bytes of one head piece: the logits are computed piece by piece so the [V, H] matrix is never widened whole. */
const HEAD_CHUNK_BYTES = 64 * 2 ** 20;

let nextModelId = 1;

function bundleBytes(b: Bundle): number {
  let n = 0;
  for (const t of Object.values(b)) n += t.data.byteLength;
  return n;
}

/**
 * Where a checkpoint keeps its language model and vision tower: the hub's
 * `model.*` / `visual.*`, or `model.language_model.*` / `model.visual.*` as
 * transformers >= 4.52 re-saves Qwen-VL checkpoints.
 */
export interface TensorPrefixes {
  llm: string;
  vision: string;
}

/** The naming a set of tensor names uses. */
export function tensorPrefixes(names: ReadonlySet<string>): TensorPrefixes {
  return names.has('model.language_model.embed_tokens.weight')
    ? { llm: 'model.language_model.', vision: 'model.visual.' }
    : { llm: 'model.', vision: 'visual.' };
}

/** Resolves and caches the weights of each block of one model. */
export class ModelWeights {
  readonly config: ModelConfig;
  readonly prefixes: TensorPrefixes;
  /** vocabulary rows per head piece */
  readonly headChunkRows: number;
  readonly #source: WeightSource;
  readonly #cache: WeightCache;
  readonly #key = `m${nextModelId++}:`;

  constructor(source: WeightSource, options: ModelWeightsOptions = {}) {
    if (options.maxCachedBytes !== undefined && !(options.maxCachedBytes >= 0)) {
      throw new RangeError(`'maxCachedBytes' must be >= 0, got ${options.maxCachedBytes}`);
    }
    if (options.headChunkRows !== undefined && !(Number.isInteger(options.headChunkRows) && options.headChunkRows >= 1)) {
      throw new RangeError(`'headChunkRows' must be a positive integer, got ${options.headChunkRows}`);
    }
    this.#source = source;
    this.config = source.config;
    this.prefixes = tensorPrefixes(source.tensorNames);
    this.#cache = options.cache ?? (options.maxCachedBytes !== undefined ? new WeightCache(options.maxCachedBytes) : sharedWeightCache());
    const V = this.config.vocabSize;
    this.headChunkRows = Math.min(V, options.headChunkRows ?? Math.max(1, Math.floor(HEAD_CHUNK_BYTES / (4 * this.config.hiddenSize))));
  }

  /** Bytes held by the cache this model uses (shared with other models unless it has its own). */
  get cachedBytes(): number {
    return this.#cache.bytes;
  }

  /** Drops this model's entries from the cache (its runner is released), but those another open model shares. */
  release(): void {
    this.#cache.dropOwner(this.#key);
  }

  async #tensor(name: string, dims: readonly number[]): Promise<F32Tensor> {
    if (!this.#source.tensorNames.has(name)) throw new RangeError(`the model has no tensor '${name}'`);
    const data = await this.#source.getFloat32(name);
    if (data.length !== sizeOf(dims)) {
      throw new RangeError(`tensor '${name}' has ${data.length} elements; the config implies shape [${dims.join(', ')}]`);
    }
    return { data, dims };
  }

  /** Rows start..start+count-1 of a [rows, width] tensor, read alone when the source can. */
  async #rows(name: string, width: number, start: number, count: number): Promise<Float32Array> {
    if (!this.#source.tensorNames.has(name)) throw new RangeError(`the model has no tensor '${name}'`);
    if (this.#source.getFloat32Rows) {
      const data = await this.#source.getFloat32Rows(name, start, count);
      if (data.length !== count * width) throw new RangeError(`rows ${start}..${start + count - 1} of tensor '${name}' hold ${data.length} elements, not ${count} x ${width}`);
      return data;
    }
    // a source that only composes whole tensors: keep the whole one under the budget like a block
    const whole = await this.#cached(`whole:${name}`, () => this.#tensor(name, [this.config.vocabSize, width]), (t) => t.data.byteLength, [name]);
    return whole.data.subarray(start * width, (start + count) * width);
  }

  /**
   * `load` under the budget. When every tensor it reads (`names`) is stored
   * bytes read unchanged, the entry is keyed by those bytes, so models reading
   * the same files (a checkpoint, a variant spliced from it) share it.
   */
  #cached<T>(key: string, load: () => Promise<T>, bytesOf: (t: T) => number, names: readonly string[]): Promise<T> {
    return this.#cache.get(this.#cacheKey(key, names).key, load, bytesOf, this.#key);
  }

  /**
   * `load` under the budget, held while `use` runs. A bundle of stored bytes
   * is fresh arrays no one else holds (WeightSource.storedKey), so once the
   * cache drops it and `use` is done, its memory is reused by the next read.
   */
  async #using<T extends object, R>(key: string, load: () => Promise<T>, bytesOf: (t: T) => number, names: readonly string[], use: (t: T) => Promise<R>): Promise<R> {
    const { key: cacheKey, stored } = this.#cacheKey(key, names);
    const lease = await this.#cache.lease(cacheKey, load, bytesOf, this.#key, stored ? arraysOf : undefined);
    try {
      return await use(lease.value);
    } finally {
      lease.release();
    }
  }

  #cacheKey(key: string, names: readonly string[]): { key: string; stored: boolean } {
    const stored = names.map((n) => this.#source.storedKey?.(n));
    if (stored.every((k) => k !== undefined)) return { key: `stored:${key}:${stored.join('|')}`, stored: true };
    return { key: this.#key + key, stored: false };
  }

  /** Input embeddings of token ids, [ids.length, H], read row by row from the stored dtype (the [V, H] matrix is never widened whole). */
  async embeddingRows(ids: readonly number[]): Promise<Float32Array> {
    const c = this.config;
    const H = c.hiddenSize;
    const name = `${this.prefixes.llm}embed_tokens.weight`;
    const out = new Float32Array(ids.length * H);
    const rows = new Map<number, Float32Array>();
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new RangeError(`token id ${id} is outside the vocabulary 0..${c.vocabSize - 1}`);
      if (!rows.has(id)) rows.set(id, await this.#rows(name, H, id, 1));
    }
    ids.forEach((id, i) => out.set(rows.get(id)!, i * H));
    return out;
  }

  /** Number of head pieces. */
  get headChunks(): number {
    return Math.ceil(this.config.vocabSize / this.headChunkRows);
  }

  /**
   * Final norm and piece `k` of the unembedding (vocabulary rows
   * k·headChunkRows onward). A tied model uses the embedding matrix even
   * when the files also hold an `lm_head.weight`, as transformers ties them at load.
   */
  useHeadChunk<R>(k: number, use: (bundle: Bundle) => Promise<R>): Promise<R> {
    const c = this.config;
    const H = c.hiddenSize;
    if (!Number.isInteger(k) || k < 0 || k >= this.headChunks) throw new RangeError(`'chunk' must be in 0..${this.headChunks - 1}, got ${k}`);
    const start = k * this.headChunkRows;
    const count = Math.min(this.headChunkRows, c.vocabSize - start);
    const name = c.tieWordEmbeddings ? `${this.prefixes.llm}embed_tokens.weight` : 'lm_head.weight';
    const norm = `${this.prefixes.llm}norm.weight`;
    const load = async (): Promise<Bundle> => ({
      norm: await this.#tensor(norm, [H]),
      w: { data: await this.#rows(name, H, start, count), dims: [count, H] },
    });
    return this.#using(`head.${start}+${count}`, load, bundleBytes, [norm, name], use);
  }

  /** Runs `use` with the weights of decoder layer `i` (0-based), which it must not keep. */
  useDecoderLayer<R>(i: number, use: (weights: BlockWeights) => Promise<R>): Promise<R> {
    const c = this.config;
    if (!Number.isInteger(i) || i < 0 || i >= c.numLayers) throw new RangeError(`'layer' must be in 0..${c.numLayers - 1}, got ${i}`);
    const p = `${this.prefixes.llm}layers.${i}.`;
    const H = c.hiddenSize;
    const qd = c.numHeads * c.headDim;
    const kd = c.numKvHeads * c.headDim;
    const load = async (): Promise<BlockWeights> => ({
      attentionInput: {
        ln: await this.#tensor(`${p}input_layernorm.weight`, [H]),
        wq: await this.#tensor(`${p}self_attn.q_proj.weight`, [qd, H]),
        bq: await this.#tensor(`${p}self_attn.q_proj.bias`, [qd]),
        wk: await this.#tensor(`${p}self_attn.k_proj.weight`, [kd, H]),
        bk: await this.#tensor(`${p}self_attn.k_proj.bias`, [kd]),
        wv: await this.#tensor(`${p}self_attn.v_proj.weight`, [kd, H]),
        bv: await this.#tensor(`${p}self_attn.v_proj.bias`, [kd]),
      },
      attentionCore: { wo: await this.#tensor(`${p}self_attn.o_proj.weight`, [H, qd]) },
      mlp: {
        ln: await this.#tensor(`${p}post_attention_layernorm.weight`, [H]),
        wg: await this.#tensor(`${p}mlp.gate_proj.weight`, [c.intermediateSize, H]),
        wu: await this.#tensor(`${p}mlp.up_proj.weight`, [c.intermediateSize, H]),
        wd: await this.#tensor(`${p}mlp.down_proj.weight`, [H, c.intermediateSize]),
      },
    });
    const names = ['input_layernorm.weight', 'post_attention_layernorm.weight', ...['q', 'k', 'v'].flatMap((x) => [`self_attn.${x}_proj.weight`, `self_attn.${x}_proj.bias`]), 'self_attn.o_proj.weight', ...['gate', 'up', 'down'].map((x) => `mlp.${x}_proj.weight`)];
    return this.#using(`layer.${i}`, load, blockBytes, names.map((n) => p + n), use);
  }

  /** Patch embedding weight [Hv, C, tp, p, p]. */
  patchEmbed(): Promise<Bundle> {
    const v = this.#vision();
    const name = `${this.prefixes.vision}patch_embed.proj.weight`;
    return this.#cached('patch', async () => ({
      w: await this.#tensor(name, [v.hiddenSize, v.inChannels, v.temporalPatchSize, v.patchSize, v.patchSize]),
    }), bundleBytes, [name]);
  }

  /** Runs `use` with the weights of vision block `i` (the fused qkv split into q, k, v), which it must not keep. */
  useVisionBlock<R>(i: number, use: (weights: BlockWeights) => Promise<R>): Promise<R> {
    const v = this.#vision();
    if (!Number.isInteger(i) || i < 0 || i >= v.depth) throw new RangeError(`'block' must be in 0..${v.depth - 1}, got ${i}`);
    const p = `${this.prefixes.vision}blocks.${i}.`;
    const Hv = v.hiddenSize;
    const Iv = v.intermediateSize;
    const load = async (): Promise<BlockWeights> => {
      const qkv = await this.#tensor(`${p}attn.qkv.weight`, [3 * Hv, Hv]);
      const qkvBias = await this.#tensor(`${p}attn.qkv.bias`, [3 * Hv]);
      const rows = (t: F32Tensor, part: number, width: number): F32Tensor => {
        const size = t.data.length / 3;
        return { data: t.data.slice(part * size, (part + 1) * size), dims: width === 0 ? [Hv] : [Hv, width] };
      };
      const layerNorm = v.block === 'layernorm_quickgelu';
      const norm = async (name: string): Promise<Bundle> => ({
        ln: await this.#tensor(`${p}${name}.weight`, [Hv]),
        ...(layerNorm ? { lnb: await this.#tensor(`${p}${name}.bias`, [Hv]) } : {}),
      });
      const attention = {
        attentionInput: {
          ...(await norm('norm1')),
          wq: rows(qkv, 0, Hv), wk: rows(qkv, 1, Hv), wv: rows(qkv, 2, Hv),
          bq: rows(qkvBias, 0, 0), bk: rows(qkvBias, 1, 0), bv: rows(qkvBias, 2, 0),
        },
        attentionCore: {
          wo: await this.#tensor(`${p}attn.proj.weight`, [Hv, Hv]),
          bo: await this.#tensor(`${p}attn.proj.bias`, [Hv]),
        },
      };
      if (layerNorm) {
        return {
          ...attention,
          mlp: {
            ...(await norm('norm2')),
            w1: await this.#tensor(`${p}mlp.fc1.weight`, [Iv, Hv]),
            b1: await this.#tensor(`${p}mlp.fc1.bias`, [Iv]),
            w2: await this.#tensor(`${p}mlp.fc2.weight`, [Hv, Iv]),
            b2: await this.#tensor(`${p}mlp.fc2.bias`, [Hv]),
          },
        };
      }
      return {
        ...attention,
        mlp: {
          ln: await this.#tensor(`${p}norm2.weight`, [Hv]),
          wg: await this.#tensor(`${p}mlp.gate_proj.weight`, [Iv, Hv]),
          bg: await this.#tensor(`${p}mlp.gate_proj.bias`, [Iv]),
          wu: await this.#tensor(`${p}mlp.up_proj.weight`, [Iv, Hv]),
          bu: await this.#tensor(`${p}mlp.up_proj.bias`, [Iv]),
          wd: await this.#tensor(`${p}mlp.down_proj.weight`, [Hv, Iv]),
          bd: await this.#tensor(`${p}mlp.down_proj.bias`, [Hv]),
        },
      };
    };
    // every tensor of the block (those a block kind does not have are not read)
    const names = [...this.#source.tensorNames].filter((n) => n.startsWith(p));
    return this.#using(`vision.${i}`, load, blockBytes, names, use);
  }

  /** Projector weights. */
  merger(): Promise<Bundle> {
    const v = this.#vision();
    const M = v.spatialMergeSize * v.spatialMergeSize * v.hiddenSize;
    const H = this.config.hiddenSize;
    const p = `${this.prefixes.vision}merger.`;
    const names = [...this.#source.tensorNames].filter((n) => n.startsWith(p));
    return this.#cached('merger', async () => ({
      ln: await this.#tensor(`${p}ln_q.weight`, [v.hiddenSize]),
      ...(v.mergerNorm === 'layernorm' ? { lnb: await this.#tensor(`${p}ln_q.bias`, [v.hiddenSize]) } : {}),
      w0: await this.#tensor(`${p}mlp.0.weight`, [M, M]),
      b0: await this.#tensor(`${p}mlp.0.bias`, [M]),
      w2: await this.#tensor(`${p}mlp.2.weight`, [H, M]),
      b2: await this.#tensor(`${p}mlp.2.bias`, [H]),
    }), bundleBytes, names);
  }

  #vision() {
    const v = this.config.vision;
    if (!v) throw new TypeError(`model_type ${JSON.stringify(this.config.modelType)} has no vision tower`);
    return v;
  }
}

/** Every array of a bundle or of a block's bundles. */
function arraysOf(value: object): Float32Array[] {
  const bundles: Bundle[] = 'mlp' in value ? Object.values(value as BlockWeights) : [value as Bundle];
  return bundles.flatMap((b) => Object.values(b).map((t: F32Tensor) => t.data));
}

function blockBytes(b: BlockWeights): number {
  return bundleBytes(b.attentionInput) + bundleBytes(b.attentionCore) + bundleBytes(b.mlp);
}
