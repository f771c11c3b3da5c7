/**
 * Batch layout: left padding, 1-D positions, the causal/padding mask and
 * rotary tables of docs/model.md ("Language model (Qwen2)").
 */
import type { ModelConfig } from '../model/config.js';
import type { BatchLayout } from './hooks.js';
import type { F32Tensor } from './tensor.js';

/** One example: token ids (visual span included) and, with an image, its normalised pixels [C, h, w]. */
export interface ModelInput {
  inputIds: readonly number[];
  pixels?: Float32Array;
}

/** A prepared batch: the layout plus left-padded ids. */
export interface PreparedBatch {
  layout: BatchLayout;
  /** [B][T] ids, padding filled with id 0 (never attended to) */
  ids: number[][];
  /** examples (batch rows) that carry an image, in batch order */
  imageRows: number[];
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
    if (input.pixels) {
      const v = config.vision;
      if (!v) throw new TypeError(`'inputs[${b}].pixels' given, but model_type ${JSON.stringify(config.modelType)} has no vision tower`);
      const expected = v.inChannels * v.imageSize[0] * v.imageSize[1];
      if (input.pixels.length !== expected) throw new RangeError(`'inputs[${b}].pixels' has ${input.pixels.length} values; expected ${expected} ([${v.inChannels}, ${v.imageSize.join(', ')}])`);
      if (span.length !== v.numVisualTokens) throw new RangeError(`'inputs[${b}].inputIds' holds ${span.length} image tokens; the image gives ${v.numVisualTokens}`);
      imageRows.push(b);
    } else if (span.length > 0) {
      throw new RangeError(`'inputs[${b}].inputIds' holds ${span.length} image tokens but no 'pixels' were given`);
    }
    visualPositions.push(span);
  });
  return { layout: { batchSize: inputs.length, length: T, padding, lengths, visualPositions }, ids, imageRows };
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

/** cos and sin [B, 1, rows, d] of the angle vectors [pos·inv, pos·inv], computed in float64. */
export function ropeTables(layout: BatchLayout, inv: Float64Array, offset: number, rows: number): { cos: F32Tensor; sin: F32Tensor } {
  const B = layout.batchSize;
  const half = inv.length;
  const d = 2 * half;
  const cos = new Float32Array(B * rows * d);
  const sin = new Float32Array(B * rows * d);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < rows; i++) {
      const pos = positionAt(layout, b, offset + i);
      const base = (b * rows + i) * d;
      for (let j = 0; j < half; j++) {
        const a = pos * inv[j]!;
        cos[base + j] = cos[base + half + j] = Math.cos(a);
        sin[base + j] = sin[base + half + j] = Math.sin(a);
      }
    }
  }
  return { cos: { data: cos, dims: [B, 1, rows, d] }, sin: { data: sin, dims: [B, 1, rows, d] } };
}
