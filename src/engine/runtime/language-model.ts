/**
 * The Qwen2 language model run layer by layer: embedding (with the visual
 * span replaced by the vision tower's tokens), decoder layers with hooks and
 * a KV cache, and the head on chosen rows.
 */
import { headGraph } from '../graphs/pieces.js';
import type { ModelConfig } from '../model/config.js';
import { attentionMask, inverseFrequencies, type PreparedBatch, ropeTables } from './batch.js';
import { type BlockSessions, blockSessions, runBlock } from './block.js';
import type { BatchLayout, HookSet, Phase } from './hooks.js';
import type { ModelWeights } from './model-weights.js';
import type { GraphSession, SessionPool } from './ort-sessions.js';
import type { F32Tensor } from './tensor.js';
import { VisionTower } from './vision.js';

/** Keys and values of one layer, [B, nkv, S, d]. */
export interface LayerKV {
  k: F32Tensor;
  v: F32Tensor;
}

/** A pass over some rows of the sequence axis. */
export interface PassSpec {
  layout: BatchLayout;
  phase: Phase;
  step: number;
  /** sequence index of the first row */
  offset: number;
}

/** The decoder stack of one model. */
export class LanguageModel {
  readonly #inv: Float64Array;

  private constructor(
    readonly config: ModelConfig,
    readonly weights: ModelWeights,
    private readonly blocks: BlockSessions,
    private readonly pool: SessionPool,
    private readonly vision: VisionTower | undefined,
  ) {
    this.#inv = inverseFrequencies(config.ropeTheta, config.headDim);
  }

  /** Gets the sessions for this model's shapes from `pool`. */
  static async create(weights: ModelWeights, pool: SessionPool): Promise<LanguageModel> {
    const c = weights.config;
    const attention = { hidden: c.hiddenSize, heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim, eps: c.rmsNormEps, qkvBias: true, outBias: false };
    const mlp = { hidden: c.hiddenSize, intermediate: c.intermediateSize, eps: c.rmsNormEps, bias: false };
    const blocks = await blockSessions(pool, attention, mlp);
    const vision = c.vision ? await VisionTower.create(weights, pool) : undefined;
    const lm = new LanguageModel(c, weights, blocks, pool, vision);
    // compiled up front, as the block sessions are, so a pool counts every session a model needs once it exists
    await lm.#head(weights.headChunkRows);
    const last = c.vocabSize % weights.headChunkRows;
    if (last !== 0) await lm.#head(last);
    return lm;
  }

  /** The head session for a piece of `rows` vocabulary rows (at most two sizes: full pieces and the last). */
  #head(rows: number): Promise<GraphSession> {
    const shape = { hidden: this.config.hiddenSize, vocab: rows, eps: this.config.rmsNormEps };
    return this.pool.get(`lm_head:${JSON.stringify(shape)}`, () => headGraph(shape));
  }

  /** Input embeddings [B, T, H] of token rows, with visual spans filled from the vision tower (the batch's images). */
  async embed(ids: readonly (readonly number[])[], hooks: HookSet, batch?: PreparedBatch): Promise<F32Tensor> {
    const H = this.config.hiddenSize;
    const B = ids.length;
    const T = ids[0]!.length;
    const x = await this.weights.embeddingRows(ids.flat());
    if (batch && batch.images.length > 0) {
      if (!this.vision) throw new TypeError(`the batch holds images but the model has no vision tower`);
      const tokens = await this.vision.run(batch.images, hooks);
      let row = 0;
      for (const b of batch.imageRows) {
        for (const t of batch.layout.visualPositions[b]!) {
          x.set(tokens.data.subarray(row * H, (row + 1) * H), (b * T + t) * H);
          row++;
        }
      }
    }
    return { data: x, dims: [B, T, H] };
  }

  /**
   * Runs decoder layers `from`..N-1 over `x` (rows offset..offset+T-1).
   * `kv[l]` holds the cache before the pass and is replaced by the cache after
   * it; `record`, when given, is called with the resid_pre of each layer run
   * (its index) and the final stream (index N).
   */
  async layers(x: F32Tensor, from: number, kv: (LayerKV | undefined)[], hooks: HookSet, pass: PassSpec, record?: (boundary: number, state: F32Tensor) => void): Promise<F32Tensor> {
    const rows = x.dims[1]!;
    const mask = attentionMask(pass.layout, pass.offset, rows);
    const { cos, sin } = ropeTables(pass.layout, this.#inv, pass.offset, rows, this.config.mropeSection);
    let cur = x;
    for (let l = from; l < this.config.numLayers; l++) {
      record?.(l, cur);
      const ctx = { section: 'llm' as const, layer: l, phase: pass.phase, step: pass.step, offset: pass.offset, layout: pass.layout };
      const out = await this.weights.useDecoderLayer(l, (w) => runBlock(this.blocks, w, { x: cur, cos, sin, mask, past: kv[l] }, hooks, ctx));
      kv[l] = { k: out.k, v: out.v };
      cur = out.out;
    }
    record?.(this.config.numLayers, cur);
    return cur;
  }

  /** Logits [rows.length, V] of chosen rows (flat indices b·T + t) of a [B, T, H] stream. */
  async logits(x: F32Tensor, rows: readonly number[]): Promise<Float32Array> {
    const H = this.config.hiddenSize;
    const picked = new Float32Array(rows.length * H);
    rows.forEach((r, i) => picked.set(x.data.subarray(r * H, (r + 1) * H), i * H));
    const V = this.config.vocabSize;
    const N = rows.length;
    const out = new Float32Array(N * V);
    const x2 = { data: picked, dims: [N, H] };
    // vocabulary pieces: only one piece of the [V, H] head is widened at a time (and kept only while the budget allows)
    for (let k = 0; k < this.weights.headChunks; k++) {
      const start = k * this.weights.headChunkRows;
      const piece = await this.weights.useHeadChunk(k, async (bundle) => (await (await this.#head(bundle.w.dims[0]!)).run({ x: x2, ...bundle }, ['logits'])).logits!.data as Float32Array);
      const Vc = piece.length / N;
      if (Vc === V) return piece;
      for (let n = 0; n < N; n++) out.set(piece.subarray(n * Vc, (n + 1) * Vc), n * V + start);
    }
    return out;
  }
}
