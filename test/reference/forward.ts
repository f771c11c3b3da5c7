/**
 * The float64 reference forward pass of docs/model.md: vision tower,
 * projector, visual-span replacement and the Qwen2 decoder, as plain loops.
 * Test-only. It shares no code with src/engine/graphs or src/engine/runtime;
 * it exists to check them.
 */
import type { ModelConfig } from '../../src/engine/model/config.js';
import { attention, linear, rmsNorm, ropeRows, silu, tensor, type WeightMap } from './ops.js';
import { referenceVision } from './vision.js';

export type { WeightMap } from './ops.js';

/** A batch: token ids (equal lengths), optional images and a left-padding mask. */
export interface ReferenceBatch {
  ids: number[][];
  /** per item a normalised [C, h, w] image, or null/undefined for none */
  pixels?: (Float32Array | null | undefined)[];
  /** per item and position: 1 real, 0 padding (left padding); all real when absent */
  attentionMask?: number[][];
}

/** What to do besides the plain forward pass. */
export interface ReferenceOptions {
  /** decoder layers replaced by the identity (resid_post = resid_pre), 0-based */
  identityLayers?: readonly number[];
  /** also return every layer's attention pattern */
  collectAttention?: boolean;
}

/** Intermediate values of one batch item. */
export interface ReferenceHidden {
  /** input embeddings after the visual-span replacement, [T, H] (= resid_pre of layer 0) */
  inputEmbeds: Float64Array;
  /** resid_post of each decoder layer, [T, H] */
  residPost: Float64Array[];
  /** the projector rows placed in the visual span, [n_v, H], or null */
  visualTokens: Float64Array | null;
  /** per layer, per query head, the pattern [T, T] (only with collectAttention) */
  attention?: Float64Array[][];
}

/** Result of {@link referenceForward}. */
export interface ReferenceResult {
  /** per batch item, [T, V] row-major; rows of padding positions are NaN */
  logits: Float64Array[];
  hidden: ReferenceHidden[];
}

/** RoPE angle vector [pos·inv, pos·inv] of the language model, inv[j] = θ^(−2j/d). */
export function textAngles(config: ModelConfig, pos: number): Float64Array {
  const d = config.headDim;
  const a = new Float64Array(d);
  for (let j = 0; j < d / 2; j++) {
    const angle = pos * Math.pow(config.ropeTheta, (-2 * j) / d);
    a[j] = angle;
    a[d / 2 + j] = angle;
  }
  return a;
}

function embed(weights: WeightMap, config: ModelConfig, ids: number[], real: boolean[], pixels: Float32Array | null | undefined): { x: Float64Array; visualTokens: Float64Array | null } {
  const h = config.hiddenSize;
  const table = tensor(weights, 'model.embed_tokens.weight');
  const x = new Float64Array(ids.length * h);
  ids.forEach((id, t) => {
    if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) throw new RangeError(`reference: token id ${id} at position ${t} is outside the vocabulary`);
    for (let i = 0; i < h; i++) x[t * h + i] = table[id * h + i]!;
  });
  if (!config.vision || config.imageTokenId === null) return { x, visualTokens: null };
  const span = ids.flatMap((id, t) => (real[t] && id === config.imageTokenId ? [t] : []));
  if (span.length === 0) return { x, visualTokens: null };
  if (!pixels) throw new RangeError(`reference: the ids hold ${span.length} image tokens but no image was given`);
  if (span.length !== config.vision.fixed!.numVisualTokens) {
    throw new RangeError(`reference: the ids hold ${span.length} image tokens, the image gives ${config.vision.fixed!.numVisualTokens}`);
  }
  const visualTokens = referenceVision(weights, config.vision, h, pixels).tokens;
  span.forEach((t, k) => x.set(visualTokens.subarray(k * h, (k + 1) * h), t * h));
  return { x, visualTokens };
}

function forwardItem(weights: WeightMap, config: ModelConfig, ids: number[], mask: number[], pixels: Float32Array | null | undefined, options: ReferenceOptions): { logits: Float64Array; hidden: ReferenceHidden } {
  const T = ids.length;
  const { hiddenSize: H, intermediateSize: I, numHeads: nh, numKvHeads: nkv, headDim: d, rmsNormEps: eps } = config;
  const real = mask.map((m) => m === 1);
  const positions: number[] = [];
  let count = 0;
  for (let t = 0; t < T; t++) {
    positions.push(count);
    if (real[t]) count++;
  }
  const { x: embeds, visualTokens } = embed(weights, config, ids, real, pixels);
  const identity = new Set(options.identityLayers ?? []);
  const allowed = (q: number, k: number): boolean => k <= q && real[k]!;
  let x = embeds;
  const residPost: Float64Array[] = [];
  const patterns: Float64Array[][] = [];
  for (let l = 0; l < config.numLayers; l++) {
    if (identity.has(l)) {
      residPost.push(x);
      if (options.collectAttention) patterns.push([]);
      continue;
    }
    const wt = (s: string): Float64Array | Float32Array => tensor(weights, `model.layers.${l}.${s}`);
    const u = rmsNorm(x, T, H, wt('input_layernorm.weight'), eps);
    const q = linear(u, T, wt('self_attn.q_proj.weight'), nh * d, H, wt('self_attn.q_proj.bias'));
    const k = linear(u, T, wt('self_attn.k_proj.weight'), nkv * d, H, wt('self_attn.k_proj.bias'));
    const v = linear(u, T, wt('self_attn.v_proj.weight'), nkv * d, H, wt('self_attn.v_proj.bias'));
    const angles = (t: number): Float64Array => textAngles(config, positions[t]!);
    const { out, patterns: p } = attention(ropeRows(q, T, nh, d, angles), ropeRows(k, T, nkv, d, angles), v, T, T, nh, nkv, d, allowed);
    if (options.collectAttention) patterns.push(p);
    const attnOut = linear(out, T, wt('self_attn.o_proj.weight'), H, nh * d);
    const h = x.map((xi, i) => xi + attnOut[i]!);
    const w = rmsNorm(h, T, H, wt('post_attention_layernorm.weight'), eps);
    const gate = linear(w, T, wt('mlp.gate_proj.weight'), I, H);
    const up = linear(w, T, wt('mlp.up_proj.weight'), I, H);
    const mlpOut = linear(gate.map((g, i) => silu(g) * up[i]!), T, wt('mlp.down_proj.weight'), H, I);
    x = h.map((hi, i) => hi + mlpOut[i]!);
    residPost.push(x);
  }
  const head = config.tieWordEmbeddings ? tensor(weights, 'model.embed_tokens.weight') : tensor(weights, 'lm_head.weight');
  const logits = linear(rmsNorm(x, T, H, tensor(weights, 'model.norm.weight'), eps), T, head, config.vocabSize, H);
  for (let t = 0; t < T; t++) if (!real[t]) logits.fill(NaN, t * config.vocabSize, (t + 1) * config.vocabSize);
  const hidden: ReferenceHidden = { inputEmbeds: embeds, residPost, visualTokens };
  if (options.collectAttention) hidden.attention = patterns;
  return { logits, hidden };
}

/**
 * Runs the model of docs/model.md in float64 on a batch.
 * @param weights every tensor of the checkpoint by name (row-major)
 * @throws RangeError on a missing weight, ragged ids, an out-of-vocabulary id, or a visual span
 *   that does not match the image (image tokens without an image, or a count other than n_v)
 */
export function referenceForward(weights: WeightMap, config: ModelConfig, batch: ReferenceBatch, options: ReferenceOptions = {}): ReferenceResult {
  const T = batch.ids[0]?.length ?? 0;
  const logits: Float64Array[] = [];
  const hidden: ReferenceHidden[] = [];
  batch.ids.forEach((ids, b) => {
    if (ids.length !== T) throw new RangeError(`reference: 'ids[${b}]' has length ${ids.length}, expected ${T}`);
    const mask = batch.attentionMask?.[b] ?? ids.map(() => 1);
    if (mask.length !== T) throw new RangeError(`reference: 'attentionMask[${b}]' has length ${mask.length}, expected ${T}`);
    const r = forwardItem(weights, config, ids, mask, batch.pixels?.[b], options);
    logits.push(r.logits);
    hidden.push(r.hidden);
  });
  return { logits, hidden };
}

/** Index of the largest value in row `row` of a [rows, n] array (lowest index on ties). */
export function argmaxRow(values: Float64Array, row: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[row * n + i]! > values[row * n + best]!) best = i;
  return best;
}

/**
 * Greedy generation by repeated full forward passes (no cache): appends the
 * argmax of the last position until an eos id or `maxNewTokens`.
 * @returns the generated ids (eos included when reached)
 */
export function referenceGreedy(weights: WeightMap, config: ModelConfig, ids: number[], pixels: Float32Array | null, maxNewTokens: number): number[] {
  const seq = [...ids];
  const out: number[] = [];
  for (let step = 0; step < maxNewTokens; step++) {
    const { logits } = referenceForward(weights, config, { ids: [seq], pixels: [pixels] });
    const next = argmaxRow(logits[0]!, seq.length - 1, config.vocabSize);
    out.push(next);
    seq.push(next);
    if (config.eosTokenIds.includes(next)) break;
  }
  return out;
}
