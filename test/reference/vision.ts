/**
 * Reference vision tower and projector (docs/model.md, "Vision tower"), float64 loops.
 */
import type { VisionConfig } from '../../src/engine/model/config.js';
import { attention, gelu, linear, rmsNorm, ropeRows, silu, tensor, type WeightMap } from './ops.js';

/** Grid row and column of each patch, in the merge-block order the tower uses. */
export function patchOrder(v: VisionConfig): [number, number][] {
  const m = v.spatialMergeSize;
  const order: [number, number][] = [];
  for (let bh = 0; bh < v.fixed!.gridRows / m; bh++) {
    for (let bw = 0; bw < v.fixed!.gridCols / m; bw++) {
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) order.push([bh * m + i, bw * m + j]);
    }
  }
  return order;
}

/** The 2-D rotary angle vector (length dv) of the patch at grid row r, column c. */
export function visionAngles(v: VisionConfig, r: number, c: number): Float64Array {
  const q = v.headDim / 4;
  const theta = new Float64Array(2 * q);
  for (let j = 0; j < q; j++) {
    const inv = Math.pow(10000, -j / q);
    theta[j] = r * inv;
    theta[q + j] = c * inv;
  }
  const a = new Float64Array(v.headDim);
  a.set(theta, 0);
  a.set(theta, 2 * q);
  return a;
}

/** Patch embeddings [N, Hv] of a [C, h, w] image. */
export function patchEmbed(weights: WeightMap, v: VisionConfig, pixels: ArrayLike<number>): Float64Array {
  const [h, w] = v.fixed!.imageSize;
  if (pixels.length !== v.inChannels * h * w) throw new RangeError(`reference: image has ${pixels.length} values, expected ${v.inChannels}×${h}×${w}`);
  const p = v.patchSize;
  const len = v.inChannels * v.temporalPatchSize * p * p;
  const order = patchOrder(v);
  const vectors = new Float64Array(order.length * len);
  order.forEach(([r, c], n) => {
    let k = n * len;
    for (let ch = 0; ch < v.inChannels; ch++) {
      for (let f = 0; f < v.temporalPatchSize; f++) {
        for (let y = 0; y < p; y++) for (let x = 0; x < p; x++) vectors[k++] = pixels[ch * h * w + (r * p + y) * w + (c * p + x)]!;
      }
    }
  });
  return linear(vectors, order.length, tensor(weights, 'visual.patch_embed.proj.weight'), v.hiddenSize, len);
}

/** Output of the vision tower for one image. */
export interface ReferenceVisionResult {
  /** after each block, [N, Hv] */
  blocks: Float64Array[];
  /** the projector's rows: the n_v visual tokens, [n_v, H] */
  tokens: Float64Array;
}

/** Runs the vision tower and projector on one normalised [C, h, w] image. */
export function referenceVision(weights: WeightMap, v: VisionConfig, hidden: number, pixels: ArrayLike<number>): ReferenceVisionResult {
  const n = v.fixed!.numPatches;
  const hv = v.hiddenSize;
  const iv = v.intermediateSize;
  const order = patchOrder(v);
  const angles = order.map(([r, c]) => visionAngles(v, r, c));
  let x = patchEmbed(weights, v, pixels);
  const blocks: Float64Array[] = [];
  for (let b = 0; b < v.depth; b++) {
    const wt = (s: string): Float64Array | Float32Array => tensor(weights, `visual.blocks.${b}.${s}`);
    const u = rmsNorm(x, n, hv, wt('norm1.weight'), v.rmsNormEps);
    const qkv = linear(u, n, wt('attn.qkv.weight'), 3 * hv, hv, wt('attn.qkv.bias'));
    const q = new Float64Array(n * hv);
    const k = new Float64Array(n * hv);
    const val = new Float64Array(n * hv);
    for (let i = 0; i < n; i++) {
      q.set(qkv.subarray(i * 3 * hv, i * 3 * hv + hv), i * hv);
      k.set(qkv.subarray(i * 3 * hv + hv, i * 3 * hv + 2 * hv), i * hv);
      val.set(qkv.subarray(i * 3 * hv + 2 * hv, (i + 1) * 3 * hv), i * hv);
    }
    const qr = ropeRows(q, n, v.numHeads, v.headDim, (i) => angles[i]!);
    const kr = ropeRows(k, n, v.numHeads, v.headDim, (i) => angles[i]!);
    const { out } = attention(qr, kr, val, n, n, v.numHeads, v.numHeads, v.headDim, () => true);
    const proj = linear(out, n, wt('attn.proj.weight'), hv, hv, wt('attn.proj.bias'));
    const h = x.map((xi, i) => xi + proj[i]!);
    const w2 = rmsNorm(h, n, hv, wt('norm2.weight'), v.rmsNormEps);
    const gate = linear(w2, n, wt('mlp.gate_proj.weight'), iv, hv, wt('mlp.gate_proj.bias'));
    const up = linear(w2, n, wt('mlp.up_proj.weight'), iv, hv, wt('mlp.up_proj.bias'));
    const act = gate.map((g, i) => silu(g) * up[i]!);
    const down = linear(act, n, wt('mlp.down_proj.weight'), hv, iv, wt('mlp.down_proj.bias'));
    x = h.map((hi, i) => hi + down[i]!);
    blocks.push(x);
  }
  // Runs of m² consecutive rows become one row: the concatenation is a no-op on row-major memory.
  const m2 = v.spatialMergeSize * v.spatialMergeSize;
  const y = rmsNorm(x, n, hv, tensor(weights, 'visual.merger.ln_q.weight'), v.rmsNormEps);
  const nv = n / m2;
  const mid = linear(y, nv, tensor(weights, 'visual.merger.mlp.0.weight'), m2 * hv, m2 * hv, tensor(weights, 'visual.merger.mlp.0.bias')).map(gelu);
  const tokens = linear(mid, nv, tensor(weights, 'visual.merger.mlp.2.weight'), hidden, m2 * hv, tensor(weights, 'visual.merger.mlp.2.bias'));
  return { blocks, tokens };
}
