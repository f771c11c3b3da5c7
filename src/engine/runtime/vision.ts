/**
 * The vision tower and projector (docs/model.md, "Vision tower"): patch
 * embedding, 2-D rotary tables on each image's own grid, blocks with hooks
 * (section 'vision') whose attention stays inside one image (or, for
 * Qwen2.5-VL's windowed blocks, inside one window), then the merger. Images
 * with the same grid run together as one batch.
 */
import type { VisionConfig } from '../model/config.js';
import { patchWindows } from '../model/families/qwen-vl/windows.js';
import { patchWidth, visualTokenCount, type PatchGrid, type VisionImage } from '../model/vision-input.js';
import { mergerGraph, patchEmbedGraph } from '../graphs/pieces.js';
import { type BlockSessions, blockSessions, runBlock } from './block.js';
import type { HookSet } from './hooks.js';
import type { ModelWeights } from './model-weights.js';
import type { SessionPool } from './ort-sessions.js';
import type { F32Tensor } from './tensor.js';

/** Grid row and column of each patch, in merge-block order, over all frames. */
function patchCoordinates(grid: PatchGrid, m: number): { rows: Int32Array; cols: Int32Array } {
  const n = grid.t * grid.h * grid.w;
  const rows = new Int32Array(n);
  const cols = new Int32Array(n);
  let k = 0;
  for (let f = 0; f < grid.t; f++) {
    for (let bh = 0; bh < grid.h / m; bh++) {
      for (let bw = 0; bw < grid.w / m; bw++) {
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < m; j++, k++) {
            rows[k] = bh * m + i;
            cols[k] = bw * m + j;
          }
        }
      }
    }
  }
  return { rows, cols };
}

/** cos and sin [1, 1, N, dv] of the 2-D rotary angles of one grid, patches in merge-block order. */
export function visionRopeTables(grid: PatchGrid, v: VisionConfig): { cos: F32Tensor; sin: F32Tensor } {
  const dv = v.headDim;
  const q = dv / 4;
  const { rows, cols } = patchCoordinates(grid, v.spatialMergeSize);
  const N = rows.length;
  const cos = new Float32Array(N * dv);
  const sin = new Float32Array(N * dv);
  for (let n = 0; n < N; n++) {
    const coords = [rows[n]!, cols[n]!];
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
  return { cos: { data: cos, dims: [1, 1, N, dv] }, sin: { data: sin, dims: [1, 1, N, dv] } };
}

/** Additive mask [1, 1, N, N] letting a patch attend only to patches of its own window. */
function windowMask(windows: Int32Array): F32Tensor {
  const N = windows.length;
  const data = new Float32Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) if (windows[i] !== windows[j]) data[i * N + j] = -Infinity;
  return { data, dims: [1, 1, N, N] };
}

/** What the blocks of one grid need: rotary tables and the masks of whole-image and windowed blocks. */
interface GridTables {
  cos: F32Tensor;
  sin: F32Tensor;
  full: F32Tensor;
  windowed: F32Tensor | null;
}

/** Grids kept with their tables; a fixed-size model has one, real images a few sizes. */
const MAX_CACHED_GRIDS = 8;

/** Runs the vision tower and projector on a batch of images. */
export class VisionTower {
  readonly #tables = new Map<string, GridTables>();

  private constructor(
    readonly config: VisionConfig,
    private readonly weights: ModelWeights,
    private readonly pool: SessionPool,
    private readonly blocks: BlockSessions,
    private readonly hidden: number,
  ) {}

  /** Sessions for this vision shape come from (and stay in) `pool`. */
  static async create(weights: ModelWeights, pool: SessionPool): Promise<VisionTower> {
    const v = weights.config.vision;
    if (!v) throw new TypeError(`model_type ${JSON.stringify(weights.config.modelType)} has no vision tower`);
    const layer = v.block === 'layernorm_quickgelu';
    const attention = { hidden: v.hiddenSize, heads: v.numHeads, kvHeads: v.numHeads, headDim: v.headDim, eps: v.rmsNormEps, qkvBias: true, outBias: true, ...(layer ? { norm: 'layer' as const } : {}) };
    const mlp = { hidden: v.hiddenSize, intermediate: v.intermediateSize, eps: v.rmsNormEps, bias: true, ...(layer ? { kind: 'quickgelu' as const, norm: 'layer' as const } : {}) };
    return new VisionTower(v, weights, pool, await blockSessions(pool, attention, mlp), weights.config.hiddenSize);
  }

  #tablesFor(grid: PatchGrid): GridTables {
    const key = `${grid.t}x${grid.h}x${grid.w}`;
    const hit = this.#tables.get(key);
    if (hit) return hit;
    const v = this.config;
    const N = grid.t * grid.h * grid.w;
    const tables: GridTables = {
      ...visionRopeTables(grid, v),
      full: { data: new Float32Array(N * N), dims: [1, 1, N, N] },
      windowed: v.windowSize === null ? null : windowMask(patchWindows(grid, v.spatialMergeSize, v.patchSize, v.windowSize)),
    };
    if (this.#tables.size >= MAX_CACHED_GRIDS) this.#tables.delete(this.#tables.keys().next().value!);
    this.#tables.set(key, tables);
    return tables;
  }

  /** Visual tokens [Σ n_v, H] of the images, in order. */
  async run(images: readonly VisionImage[], hooks: HookSet): Promise<F32Tensor> {
    const v = this.config;
    const starts: number[] = [];
    let total = 0;
    for (const img of images) {
      starts.push(total);
      total += visualTokenCount(img.grid, v.spatialMergeSize);
    }
    const out = new Float32Array(total * this.hidden);
    const groups = new Map<string, number[]>();
    images.forEach((img, i) => {
      const key = `${img.grid.t}x${img.grid.h}x${img.grid.w}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    for (const members of groups.values()) {
      const tokens = await this.#runGroup(members.map((i) => images[i]!), hooks);
      const perImage = tokens.data.length / members.length;
      members.forEach((i, k) => out.set(tokens.data.subarray(k * perImage, (k + 1) * perImage), starts[i]! * this.hidden));
    }
    return { data: out, dims: [total, this.hidden] };
  }

  /** Images of one grid as a batch [B, N, Hv] through the blocks and the merger. */
  async #runGroup(images: readonly VisionImage[], hooks: HookSet): Promise<F32Tensor> {
    const v = this.config;
    const grid = images[0]!.grid;
    const N = grid.t * grid.h * grid.w;
    const K = patchWidth(v);
    const B = images.length;
    const patches = new Float32Array(B * N * K);
    images.forEach((img, i) => patches.set(img.patches, i * N * K));
    const shape = { visionHidden: v.hiddenSize, channels: v.inChannels, temporalPatch: v.temporalPatchSize, patch: v.patchSize };
    const embed = await this.pool.get(`patch_embed:${JSON.stringify(shape)}`, () => patchEmbedGraph(shape));
    const e = await embed.run({ patches: { data: patches, dims: [B * N, K] }, ...(await this.weights.patchEmbed()) }, ['embeddings']);
    let x: F32Tensor = { data: e.embeddings!.data as Float32Array, dims: [B, N, v.hiddenSize] };
    const tables = this.#tablesFor(grid);
    const layout = { batchSize: B, length: N, padding: new Array<number>(B).fill(0), lengths: new Array<number>(B).fill(N), visualPositions: images.map(() => []) };
    for (let i = 0; i < v.depth; i++) {
      const mask = tables.windowed && !v.fullAttentionBlocks.includes(i) ? tables.windowed : tables.full;
      const ctx = { section: 'vision' as const, layer: i, phase: 'prefill' as const, step: 0, offset: 0, layout };
      const input = x;
      x = (await this.weights.useVisionBlock(i, (w) => runBlock(this.blocks, w, { x: input, cos: tables.cos, sin: tables.sin, mask }, hooks, ctx))).out;
    }
    const mshape = { visionHidden: v.hiddenSize, mergeSize: v.spatialMergeSize, hidden: this.hidden, eps: v.rmsNormEps, ...(v.mergerNorm === 'layernorm' ? { norm: 'layer' as const } : {}) };
    const merger = await this.pool.get(`merger:${JSON.stringify(mshape)}`, () => mergerGraph(mshape));
    const t = await merger.run({ x: { data: x.data, dims: [B * N, v.hiddenSize] }, ...(await this.weights.merger()) }, ['tokens']);
    return { data: t.tokens!.data as Float32Array, dims: [B * visualTokenCount(grid, v.spatialMergeSize), this.hidden] };
  }
}
