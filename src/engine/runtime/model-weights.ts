/**
 * Per-block weight bundles (role -> tensor, as the piece graphs name their
 * inputs), read from a {@link WeightSource} on first use and kept in a cache
 * bounded by bytes, so one layer at a time is enough for models larger than
 * memory and repeated runs read nothing.
 */
import type { ModelConfig } from '../model/config.js';
import { type F32Tensor, sizeOf } from './tensor.js';
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
  /** bytes of block weights kept in memory [unbounded]; least recently used blocks are dropped first */
  maxCachedBytes?: number;
}

interface Entry {
  value: Promise<unknown>;
  bytes: number;
}

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
  readonly #source: WeightSource;
  readonly #cache = new Map<string, Entry>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(source: WeightSource, options: ModelWeightsOptions = {}) {
    if (options.maxCachedBytes !== undefined && !(options.maxCachedBytes >= 0)) {
      throw new RangeError(`'maxCachedBytes' must be >= 0, got ${options.maxCachedBytes}`);
    }
    this.#source = source;
    this.config = source.config;
    this.prefixes = tensorPrefixes(source.tensorNames);
    this.#maxBytes = options.maxCachedBytes ?? Infinity;
  }

  /** Bytes held by the block cache now. */
  get cachedBytes(): number {
    return this.#bytes;
  }

  async #tensor(name: string, dims: readonly number[]): Promise<F32Tensor> {
    if (!this.#source.tensorNames.has(name)) throw new RangeError(`the model has no tensor '${name}'`);
    const data = await this.#source.getFloat32(name);
    if (data.length !== sizeOf(dims)) {
      throw new RangeError(`tensor '${name}' has ${data.length} elements; the config implies shape [${dims.join(', ')}]`);
    }
    return { data, dims };
  }

  #cached<T>(key: string, load: () => Promise<T>, bytesOf: (t: T) => number): Promise<T> {
    const hit = this.#cache.get(key);
    if (hit) {
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit.value as Promise<T>;
    }
    const entry: Entry = { value: load(), bytes: 0 };
    this.#cache.set(key, entry);
    entry.value.then(
      (v) => {
        if (this.#cache.get(key) !== entry) return;
        entry.bytes = bytesOf(v as T);
        this.#bytes += entry.bytes;
        this.#evict(key);
      },
      () => this.#cache.delete(key),
    );
    return entry.value as Promise<T>;
  }

  #evict(keep: string): void {
    for (const [key, entry] of this.#cache) {
      if (this.#bytes <= this.#maxBytes) return;
      if (key === keep) continue;
      this.#cache.delete(key);
      this.#bytes -= entry.bytes;
    }
  }

  /** Token embedding matrix [V, H]. */
  embedding(): Promise<F32Tensor> {
    const c = this.config;
    return this.#cached('embed', () => this.#tensor(`${this.prefixes.llm}embed_tokens.weight`, [c.vocabSize, c.hiddenSize]), (t) => t.data.byteLength);
  }

  /** Weights of decoder layer `i` (0-based). */
  decoderLayer(i: number): Promise<BlockWeights> {
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
    return this.#cached(`layer.${i}`, load, blockBytes);
  }

  /**
   * Final norm and unembedding. A tied model uses the embedding matrix even
   * when the files also hold an `lm_head.weight`, as transformers ties them at load.
   */
  head(): Promise<Bundle> {
    const c = this.config;
    const load = async (): Promise<Bundle> => ({
      norm: await this.#tensor(`${this.prefixes.llm}norm.weight`, [c.hiddenSize]),
      w: c.tieWordEmbeddings ? await this.embedding() : await this.#tensor('lm_head.weight', [c.vocabSize, c.hiddenSize]),
    });
    return this.#cached('head', load, bundleBytes);
  }

  /** Patch embedding weight [Hv, C, tp, p, p]. */
  patchEmbed(): Promise<Bundle> {
    const v = this.#vision();
    return this.#cached('patch', async () => ({
      w: await this.#tensor(`${this.prefixes.vision}patch_embed.proj.weight`, [v.hiddenSize, v.inChannels, v.temporalPatchSize, v.patchSize, v.patchSize]),
    }), bundleBytes);
  }

  /** Weights of vision block `i`; the fused qkv is split into q, k, v. */
  visionBlock(i: number): Promise<BlockWeights> {
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
    return this.#cached(`vision.${i}`, load, blockBytes);
  }

  /** Projector weights. */
  merger(): Promise<Bundle> {
    const v = this.#vision();
    const M = v.spatialMergeSize * v.spatialMergeSize * v.hiddenSize;
    const H = this.config.hiddenSize;
    const p = `${this.prefixes.vision}merger.`;
    return this.#cached('merger', async () => ({
      ln: await this.#tensor(`${p}ln_q.weight`, [v.hiddenSize]),
      ...(v.mergerNorm === 'layernorm' ? { lnb: await this.#tensor(`${p}ln_q.bias`, [v.hiddenSize]) } : {}),
      w0: await this.#tensor(`${p}mlp.0.weight`, [M, M]),
      b0: await this.#tensor(`${p}mlp.0.bias`, [M]),
      w2: await this.#tensor(`${p}mlp.2.weight`, [H, M]),
      b2: await this.#tensor(`${p}mlp.2.bias`, [H]),
    }), bundleBytes);
  }

  #vision() {
    const v = this.config.vision;
    if (!v) throw new TypeError(`model_type ${JSON.stringify(this.config.modelType)} has no vision tower`);
    return v;
  }
}

function blockBytes(b: BlockWeights): number {
  return bundleBytes(b.attentionInput) + bundleBytes(b.attentionCore) + bundleBytes(b.mlp);
}
