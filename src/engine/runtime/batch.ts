/**
 * Batch layout: left padding, positions (1-D, or M-RoPE's three streams), the
 * causal/padding mask and rotary tables of docs/model.md ("Language model").
 */
import type { ModelConfig } from '../model/config.js';
import { mropePositions, MropeLayoutError, type MropePositions } from '../model/families/qwen-vl/positions.js';
import { fixedImage, patchWidth, visualTokenCount, type VisionImage } from '../model/vision-input.js';
import type { BatchLayout } from './hooks.js';
import type { F32Tensor } from './tensor.js';

/**
 * One example: token ids (visual spans included) and its images, either
 * `pixels` (one normalised [C, h, w] image at a fixed-size model's size) or
 * `images` (patch rows and grids from the model's image processor, in prompt order).
 */
export interface ModelInput {
  inputIds: readonly number[];
  pixels?: Float32Array;
  images?: readonly VisionImage[];
}

/** A prepared batch: the layout plus left-padded ids. */
export interface PreparedBatch {
  layout: BatchLayout;
  /** [B][T] ids, padding filled with id 0 (never attended to) */
  ids: number[][];
  /** examples (batch rows) that carry images, in batch order */
  imageRows: number[];
  /** every image of the batch, row by row, in prompt order: their visual tokens fill `visualPositions` in this order */
  images: VisionImage[];
}

function imagesOf(config: ModelConfig, input: ModelInput, b: number): VisionImage[] {
  if (input.pixels && input.images) throw new TypeError(`'inputs[${b}]' gives both 'pixels' and 'images'; give one`);
  if (!input.pixels && !input.images) return [];
  const v = config.vision;
  if (!v) throw new TypeError(`'inputs[${b}]' holds images, but model_type ${JSON.stringify(config.modelType)} has no vision tower`);
  if (input.pixels) {
    if (!v.fixed) throw new TypeError(`'inputs[${b}].pixels' is for fixed-size models; model_type ${JSON.stringify(config.modelType)} takes 'images' from its image processor`);
    const expected = v.inChannels * v.fixed.imageSize[0] * v.fixed.imageSize[1];
    if (input.pixels.length !== expected) throw new RangeError(`'inputs[${b}].pixels' has ${input.pixels.length} values; expected ${expected} ([${v.inChannels}, ${v.fixed.imageSize.join(', ')}])`);
    return [fixedImage(input.pixels, v)];
  }
  const K = patchWidth(v);
  return input.images!.map((img, i) => {
    const { t, h, w } = img.grid;
    const m = v.spatialMergeSize;
    if (![t, h, w].every((x) => Number.isSafeInteger(x) && x > 0) || h % m !== 0 || w % m !== 0) {
      throw new RangeError(`'inputs[${b}].images[${i}].grid' ${JSON.stringify(img.grid)} must be positive and its rows and columns divisible by spatial_merge_size ${m}`);
    }
    if (img.patches.length !== t * h * w * K) throw new RangeError(`'inputs[${b}].images[${i}].patches' has ${img.patches.length} values; the grid needs ${t * h * w} rows of ${K}`);
    return img;
  });
}

/** Lays out a batch with left padding and finds the visual spans. */
export function prepareBatch(config: ModelConfig, inputs: readonly ModelInput[]): PreparedBatch {
  if (inputs.length === 0) throw new RangeError(`'inputs' must hold at least one example`);
  const T = Math.max(...inputs.map((x) => x.inputIds.length));
  const padding: number[] = [];
  const lengths: number[] = [];
  const visualPositions: number[][] = [];
  const ids: number[][] = [];
  const imageRows: number[] = [];
  const images: VisionImage[] = [];
  const mrope: MropePositions[] = [];
  inputs.forEach((input, b) => {
    const n = input.inputIds.length;
    if (n === 0) throw new RangeError(`'inputs[${b}].inputIds' is empty`);
    for (const id of input.inputIds) {
      if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) throw new RangeError(`'inputs[${b}].inputIds' holds ${id}, not a token id below vocab_size ${config.vocabSize}`);
    }
    const pad = T - n;
    padding.push(pad);
    lengths.push(n);
    ids.push([...new Array<number>(pad).fill(0), ...input.inputIds]);
    const span: number[] = [];
    if (config.imageTokenId !== null) input.inputIds.forEach((id, k) => id === config.imageTokenId && span.push(pad + k));
    const rowImages = imagesOf(config, input, b);
    const expected = rowImages.reduce((n, img) => n + visualTokenCount(img.grid, config.vision!.spatialMergeSize), 0);
    if (span.length !== expected) {
      throw new RangeError(rowImages.length === 0
        ? `'inputs[${b}].inputIds' holds ${span.length} image tokens but no images were given`
        : `'inputs[${b}].inputIds' holds ${span.length} image tokens; the image${rowImages.length > 1 ? 's give' : ' gives'} ${expected}`);
    }
    if (rowImages.length > 0) imageRows.push(b);
    images.push(...rowImages);
    if (config.mropeSection) {
      try {
        mrope.push(mropePositions(input.inputIds, rowImages.map((img) => img.grid), config.imageTokenId ?? -1, config.vision?.spatialMergeSize ?? 1));
      } catch (e) {
        if (e instanceof MropeLayoutError) throw new RangeError(`'inputs[${b}]': ${e.message}`);
        throw e;
      }
    }
    visualPositions.push(span);
  });
  const layout: BatchLayout = { batchSize: inputs.length, length: T, padding, lengths, visualPositions, ...(config.mropeSection ? { mrope } : {}) };
  return { layout, ids, imageRows, images };
}

/** Position of the query at sequence index `t` of example `b` (0 for padding). */
export function positionAt(layout: BatchLayout, b: number, t: number): number {
  return Math.max(0, t - layout.padding[b]!);
}

/**
 * Additive mask [B, 1, rows, offset + rows] for queries at sequence indices
 * offset..offset+rows-1: causal, padded keys masked; a padding query sees only
 * itself (its output is never used, and a row must not be empty).
 */
export function attentionMask(layout: BatchLayout, offset: number, rows: number): F32Tensor {
  const B = layout.batchSize;
  const S = offset + rows;
  const data = new Float32Array(B * rows * S).fill(-Infinity);
  for (let b = 0; b < B; b++) {
    const pad = layout.padding[b]!;
    for (let i = 0; i < rows; i++) {
      const q = offset + i;
      const row = (b * rows + i) * S;
      if (q < pad) data[row + q] = 0;
      else data.fill(0, row + pad, row + q + 1);
    }
  }
  return { data, dims: [B, 1, rows, S] };
}

/** inv[j] = theta^(-2j/d), j < d/2, in float64. */
export function inverseFrequencies(theta: number, d: number): Float64Array {
  const inv = new Float64Array(d / 2);
  for (let j = 0; j < d / 2; j++) inv[j] = Math.pow(theta, (-2 * j) / d);
  return inv;
}

/**
 * M-RoPE position of one axis (0 temporal, 1 height, 2 width) at sequence index `t` of row `b`:
 * the prompt's own streams, then one past the prompt's largest position per generated token.
 */
function mropePositionAt(layout: BatchLayout, b: number, t: number, axis: 0 | 1 | 2): number {
  const pad = layout.padding[b]!;
  if (t < pad) return 0;
  const row = layout.mrope![b]!;
  const k = t - pad;
  if (k < layout.lengths[b]!) return (axis === 0 ? row.t : axis === 1 ? row.h : row.w)[k]!;
  return row.next + (t - layout.length);
}

/**
 * cos and sin [B, 1, rows, d] of the angle vectors [θ, θ], θ[j] = pos·inv[j],
 * computed in float64. With M-RoPE (the layout's `mrope` streams and the
 * config's `section`) frequency j takes its position from the temporal, height
 * or width stream by the section it falls in, as transformers'
 * apply_multimodal_rotary_pos_emb selects them.
 */
export function ropeTables(
  layout: BatchLayout,
  inv: Float64Array,
  offset: number,
  rows: number,
  section?: readonly [number, number, number] | null,
): { cos: F32Tensor; sin: F32Tensor } {
  const B = layout.batchSize;
  const half = inv.length;
  const d = 2 * half;
  const cos = new Float32Array(B * rows * d);
  const sin = new Float32Array(B * rows * d);
  const axisOf = new Uint8Array(half);
  const mrope = section && layout.mrope ? section : null;
  if (mrope) {
    const [st, sh] = mrope;
    for (let j = 0; j < half; j++) axisOf[j] = j < st ? 0 : j < st + sh ? 1 : 2;
  }
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < rows; i++) {
      const t = offset + i;
      const pos = mrope
        ? [0, 1, 2].map((axis) => mropePositionAt(layout, b, t, axis as 0 | 1 | 2))
        : [positionAt(layout, b, t)];
      const base = (b * rows + i) * d;
      for (let j = 0; j < half; j++) {
        const a = pos[axisOf[j]!]! * inv[j]!;
        cos[base + j] = cos[base + half + j] = Math.cos(a);
        sin[base + j] = sin[base + half + j] = Math.sin(a);
      }
    }
  }
  return { cos: { data: cos, dims: [B, 1, rows, d] }, sin: { data: sin, dims: [B, 1, rows, d] } };
}
