/**
 * The vision tower and projector (docs/model.md, "Vision tower"): patches in
 * merge-block order, 2-D rotary tables, blocks with hooks (section
 * 'vision'), then the merger. Images of one batch run together.
 */
import type { VisionConfig } from '../model/config.js';
import { mergerGraph, patchEmbedGraph } from '../graphs/pieces.js';
import { type BlockSessions, blockSessions, runBlock } from './block.js';
import type { HookSet } from './hooks.js';
import type { ModelWeights } from './model-weights.js';
import type { SessionPool } from './ort-sessions.js';
import type { F32Tensor } from './tensor.js';

/** Patch vectors of one image [C, h, w] in merge-block order: [N, C·tp·p·p]. */
export function extractPatches(pixels: Float32Array, v: VisionConfig): Float32Array {
  const { patchSize: p, temporalPatchSize: tp, spatialMergeSize: m, inChannels: C, gridRows, gridCols } = v;
  const W = v.imageSize[1];
  const plane = v.imageSize[0] * W;
  const K = C * tp * p * p;
  const out = new Float32Array(gridRows * gridCols * K);
  let n = 0;
  for (let bh = 0; bh < gridRows / m; bh++) {
    for (let bw = 0; bw < gridCols / m; bw++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++, n++) {
          const r = bh * m + i;
          const c = bw * m + j;
          let o = n * K;
          for (let ch = 0; ch < C; ch++) {
            for (let t = 0; t < tp; t++) {
              for (let y = 0; y < p; y++) {
                const src = ch * plane + (r * p + y) * W + c * p;
                for (let x = 0; x < p; x++) out[o++] = pixels[src + x]!;
              }
            }
          }
        }
      }
    }
  }
  return out;
}

/** cos and sin [1, 1, N, dv] of the 2-D rotary angles, patches in merge-block order. */
export function visionRopeTables(v: VisionConfig): { cos: F32Tensor; sin: F32Tensor } {
  const dv = v.headDim;
  const q = dv / 4;
  const m = v.spatialMergeSize;
  const N = v.numPatches;
  const cos = new Float32Array(N * dv);
  const sin = new Float32Array(N * dv);
  let n = 0;
  for (let bh = 0; bh < v.gridRows / m; bh++) {
    for (let bw = 0; bw < v.gridCols / m; bw++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++, n++) {
          const coords = [bh * m + i, bw * m + j];
          for (let half = 0; half < 2; half++) {
            for (let axis = 0; axis < 2; axis++) {
              for (let f = 0; f < q; f++) {
                const a = coords[axis]! * Math.pow(10000, -f / q);
                const idx = n * dv + half * (dv / 2) + axis * q + f;
                cos[idx] = Math.cos(a);
                sin[idx] = Math.sin(a);
              }
            }
          }
        }
      }
    }
  }
  return { cos: { data: cos, dims: [1, 1, N, dv] }, sin: { data: sin, dims: [1, 1, N, dv] } };
}

/** Runs the vision tower and projector on a batch of images. */
export class VisionTower {
  readonly #rope: { cos: F32Tensor; sin: F32Tensor };
  readonly #mask: F32Tensor;

  private constructor(
    readonly config: VisionConfig,
    private readonly weights: ModelWeights,
    private readonly pool: SessionPool,
    private readonly blocks: BlockSessions,
    private readonly hidden: number,
  ) {
    this.#rope = visionRopeTables(config);
    this.#mask = { data: new Float32Array(config.numPatches * config.numPatches), dims: [1, 1, config.numPatches, config.numPatches] };
  }

  /** Sessions for this vision shape come from (and stay in) `pool`. */
  static async create(weights: ModelWeights, pool: SessionPool): Promise<VisionTower> {
    const v = weights.config.vision;
    if (!v) throw new TypeError(`model_type ${JSON.stringify(weights.config.modelType)} has no vision tower`);
    const attention = { hidden: v.hiddenSize, heads: v.numHeads, kvHeads: v.numHeads, headDim: v.headDim, eps: v.rmsNormEps, qkvBias: true, outBias: true };
    const mlp = { hidden: v.hiddenSize, intermediate: v.intermediateSize, eps: v.rmsNormEps, bias: true };
    return new VisionTower(v, weights, pool, await blockSessions(pool, attention, mlp), weights.config.hiddenSize);
  }

  /** Visual tokens [images·n_v, H] of the images, in order. */
  async run(images: readonly Float32Array[], hooks: HookSet): Promise<F32Tensor> {
    const v = this.config;
    const N = v.numPatches;
    const K = v.inChannels * v.temporalPatchSize * v.patchSize * v.patchSize;
    const B = images.length;
    const patches = new Float32Array(B * N * K);
    images.forEach((img, i) => patches.set(extractPatches(img, v), i * N * K));
    const shape = { visionHidden: v.hiddenSize, channels: v.inChannels, temporalPatch: v.temporalPatchSize, patch: v.patchSize };
    const embed = await this.pool.get(`patch_embed:${JSON.stringify(shape)}`, () => patchEmbedGraph(shape));
    const e = await embed.run({ patches: { data: patches, dims: [B * N, K] }, ...(await this.weights.patchEmbed()) }, ['embeddings']);
    let x: F32Tensor = { data: e.embeddings!.data as Float32Array, dims: [B, N, v.hiddenSize] };
    const layout = { batchSize: B, length: N, padding: new Array<number>(B).fill(0), lengths: new Array<number>(B).fill(N), visualPositions: images.map(() => []) };
    for (let i = 0; i < v.depth; i++) {
      const ctx = { section: 'vision' as const, layer: i, phase: 'prefill' as const, step: 0, offset: 0, layout };
      x = (await runBlock(this.blocks, await this.weights.visionBlock(i), { x, ...this.#rope, mask: this.#mask }, hooks, ctx)).out;
    }
    const mshape = { visionHidden: v.hiddenSize, mergeSize: v.spatialMergeSize, hidden: this.hidden, eps: v.rmsNormEps };
    const merger = await this.pool.get(`merger:${JSON.stringify(mshape)}`, () => mergerGraph(mshape));
    const t = await merger.run({ x: { data: x.data, dims: [B * N, v.hiddenSize] }, ...(await this.weights.merger()) }, ['tokens']);
    return { data: t.tokens!.data as Float32Array, dims: [B * v.numVisualTokens, this.hidden] };
  }
}
