/**
 * Float64 reference of Qwen2VLForConditionalGeneration /
 * Qwen2_5_VLForConditionalGeneration (images, no videos), written from
 * transformers' modeling_qwen2_vl.py / modeling_qwen2_5_vl.py: Qwen2VLModel.forward
 * (image features scattered into the `<|image_pad|>` rows in order),
 * get_rope_index, Qwen2VLRotaryEmbedding + apply_multimodal_rotary_pos_emb,
 * Qwen2VLDecoderLayer (RMSNorm, q/k/v with bias, o without, GQA, SwiGLU MLP),
 * the final norm and lm_head (the embedding when tied). Test-only; shares no
 * code with src/engine.
 */
import { readQwenVlConfig, type QwenVlRefConfig } from './config.js';
import { activation, addInPlace, applyRotary, attendHead, linear, mapInPlace, rmsNorm, weight, type RefTensor, type RefWeights } from './ops.js';
import { getRopeIndex, type RopeIndex } from './rope-index.js';
import { referenceVision, type GridThw, type RefImage } from './vision.js';

export type { RefTensor, RefWeights } from './ops.js';
export type { GridThw, RefImage } from './vision.js';
export { readQwenVlConfig, type QwenVlRefConfig } from './config.js';

/** Hub name of a tensor given in hub or re-saved naming. */
export function toHubName(name: string): string {
  if (name.startsWith('model.visual.')) return name.slice('model.'.length);
  if (name.startsWith('model.language_model.')) return `model.${name.slice('model.language_model.'.length)}`;
  return name;
}

/** A weight map in hub names from float tensors in either naming. */
export function refWeights(tensors: Iterable<[string, { shape: readonly number[]; data: ArrayLike<number> }]>): Map<string, RefTensor> {
  const out = new Map<string, RefTensor>();
  for (const [name, t] of tensors) {
    const hub = toHubName(name);
    if (out.has(hub)) throw new Error(`reference: '${name}' and another tensor both map to '${hub}'`);
    out.set(hub, { shape: [...t.shape], data: Float64Array.from(t.data) });
  }
  return out;
}

/** cos/sin [T, headDim] of M-RoPE for one row: channel c uses axis by mrope_section (repeated for both halves). */
export function mropeCosSin(cfg: QwenVlRefConfig, pos: readonly (readonly number[])[]): { cos: Float64Array; sin: Float64Array } {
  const d = cfg.headDim;
  const half = d / 2;
  const T = pos[0]!.length;
  const [s0, s1] = cfg.mropeSection;
  const axisOf = (c: number): number => (c < s0 ? 0 : c < s0 + s1 ? 1 : 2);
  const cos = new Float64Array(T * d);
  const sin = new Float64Array(T * d);
  for (let i = 0; i < T; i++) {
    for (let c = 0; c < d; c++) {
      const j = c % half;
      const inv = 1 / cfg.ropeTheta ** ((2 * j) / d);
      const a = pos[axisOf(j)]![i]! * inv;
      cos[i * d + c] = Math.cos(a);
      sin[i * d + c] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/** Input of {@link referenceQwenVl}. */
export interface QwenVlInput {
  /** token ids per row (equal lengths), image pads already expanded */
  ids: number[][];
  /** 1 real / 0 padding per position (left padding); all real when absent */
  attentionMask?: number[][];
  /** images in prompt order over the whole batch (row 0's first, ...) */
  images?: RefImage[];
  /** explicit positions [row][axis][i] (decode); computed by get_rope_index when absent */
  positions?: number[][][];
}

/** Output of {@link referenceQwenVl}. */
export interface QwenVlOutput {
  /** per row [T, V]; padding rows NaN */
  logits: Float64Array[];
  /** per row [T, H] after the final norm */
  lastHidden: Float64Array[];
  /** merged vision tokens of all images [n, H] (null without images) */
  imageEmbeds: Float64Array | null;
  ropeIndex: RopeIndex;
}

/** Options of {@link referenceQwenVl}. */
export interface QwenVlOptions {
  /** compute logits only for the last position of each row (generation) */
  lastOnly?: boolean;
  /** precomputed vision output (skips the tower) */
  imageEmbeds?: Float64Array;
}

/** Full forward pass: logits per position, as HF's model(...) returns them (use_cache irrelevant). */
export function referenceQwenVl(cfg: QwenVlRefConfig, w: RefWeights, input: QwenVlInput, options: QwenVlOptions = {}): QwenVlOutput {
  const B = input.ids.length;
  const T = input.ids[0]!.length;
  if (!input.ids.every((r) => r.length === T)) throw new Error('reference: rows must have equal lengths (pad on the left)');
  const mask = input.attentionMask ?? input.ids.map((r) => r.map(() => 1));
  const H = cfg.hidden;
  const images = input.images ?? [];
  const grids: GridThw[] = images.map((im) => im.gridThw);
  const imageEmbeds = images.length > 0 ? options.imageEmbeds ?? referenceVision(cfg, w, images) : null;
  const ropeIndex: RopeIndex = input.positions
    ? { positions: input.positions, ropeDeltas: input.positions.map((p, b) => Math.max(...p.flat()) + 1 - input.ids[b]!.length) }
    : getRopeIndex(input.ids, images.length > 0 ? grids : null, { ...cfg, imageTemporalStep: cfg.family === 'qwen2_vl' ? 1 : 0 }, cfg.vision.mergeSize, mask);

  const embed = weight(w, 'model.embed_tokens.weight');
  let nextImageRow = 0;
  const nImageRows = imageEmbeds ? imageEmbeds.length / H : 0;
  const logits: Float64Array[] = [];
  const lastHidden: Float64Array[] = [];
  for (let b = 0; b < B; b++) {
    const row = input.ids[b]!;
    let x: Float64Array = new Float64Array(T * H);
    row.forEach((id, i) => {
      if (id === cfg.imageTokenId && imageEmbeds) {
        if (nextImageRow >= nImageRows) throw new Error('reference: more image pads than image features');
        x.set(imageEmbeds.subarray(nextImageRow * H, (nextImageRow + 1) * H), i * H);
        nextImageRow++;
      } else {
        if (id < 0 || id >= cfg.vocabSize) throw new Error(`reference: token id ${id} outside the vocabulary`);
        x.set(embed.data.subarray(id * H, (id + 1) * H), i * H);
      }
    });
    const { cos, sin } = mropeCosSin(cfg, ropeIndex.positions[b]!);
    const d = cfg.headDim;
    const nh = cfg.numHeads;
    const nkv = cfg.numKvHeads;
    const group = nh / nkv;
    for (let l = 0; l < cfg.numLayers; l++) {
      const p = `model.layers.${l}.`;
      const hN = rmsNorm(x, T, weight(w, `${p}input_layernorm.weight`), cfg.rmsEps);
      const q = linear(hN, T, weight(w, `${p}self_attn.q_proj.weight`), weight(w, `${p}self_attn.q_proj.bias`));
      const k = linear(hN, T, weight(w, `${p}self_attn.k_proj.weight`), weight(w, `${p}self_attn.k_proj.bias`));
      const v = linear(hN, T, weight(w, `${p}self_attn.v_proj.weight`), weight(w, `${p}self_attn.v_proj.bias`));
      for (let i = 0; i < T; i++) {
        for (let h = 0; h < nh; h++) applyRotary(q, i * nh * d + h * d, d, cos, sin, i * d);
        for (let h = 0; h < nkv; h++) applyRotary(k, i * nkv * d + h * d, d, cos, sin, i * d);
      }
      const win = cfg.slidingWindows[l];
      const allowed = (i: number, j: number): boolean => j <= i && mask[b]![j] === 1 && (win === null || win === undefined || i - j < win);
      const att = new Float64Array(T * nh * d);
      for (let h = 0; h < nh; h++) {
        const kvh = Math.floor(h / group);
        attendHead(q, nh * d, h * d, T, k, v, nkv * d, kvh * d, T, d, allowed, att, nh * d, h * d);
      }
      addInPlace(x, linear(att, T, weight(w, `${p}self_attn.o_proj.weight`)));
      const h2 = rmsNorm(x, T, weight(w, `${p}post_attention_layernorm.weight`), cfg.rmsEps);
      const g = mapInPlace(linear(h2, T, weight(w, `${p}mlp.gate_proj.weight`)), activation(cfg.hiddenAct));
      const u = linear(h2, T, weight(w, `${p}mlp.up_proj.weight`));
      for (let i = 0; i < g.length; i++) g[i] = g[i]! * u[i]!;
      x = addInPlace(x, linear(g, T, weight(w, `${p}mlp.down_proj.weight`)));
    }
    const final = rmsNorm(x, T, weight(w, 'model.norm.weight'), cfg.rmsEps);
    lastHidden.push(final);
    // HF ties lm_head to embed_tokens when tie_word_embeddings is true, whatever lm_head.weight the files hold.
    const head = cfg.tieWordEmbeddings ? embed : weight(w, 'lm_head.weight');
    if (options.lastOnly) {
      logits.push(linear(final.subarray((T - 1) * H), 1, head));
    } else {
      const lg = linear(final, T, head);
      row.forEach((_, i) => mask[b]![i] === 0 && lg.fill(NaN, i * cfg.vocabSize, (i + 1) * cfg.vocabSize));
      logits.push(lg);
    }
  }
  if (imageEmbeds && nextImageRow !== nImageRows) throw new Error(`reference: ${nImageRows} image features but ${nextImageRow} image pads`);
  return { logits, lastHidden, imageEmbeds, ropeIndex };
}

/** Options of {@link referenceGreedy}. */
export interface GreedyOptions {
  maxNewTokens: number;
  /** stop ids (generation_config eos_token_id); finished rows are then filled with padTokenId */
  eosTokenIds?: readonly number[];
  padTokenId?: number;
}

/**
 * Greedy decoding by recomputing the whole sequence each step (no KV cache):
 * the prompt keeps its get_rope_index positions, and the k-th generated token
 * (k = 0, 1, ...) of a row gets position max+1+k on all three axes, which is
 * what HF's decode branch computes (cache_position + rope_deltas).
 */
export function referenceGreedy(cfg: QwenVlRefConfig, w: RefWeights, input: QwenVlInput, options: GreedyOptions): { tokens: number[][]; stepLogits: Float64Array[][] } {
  const prompt = referenceQwenVl(cfg, w, input, { lastOnly: true });
  const B = input.ids.length;
  const L = input.ids[0]!.length;
  const ids = input.ids.map((r) => [...r]);
  const mask = (input.attentionMask ?? input.ids.map((r) => r.map(() => 1))).map((r) => [...r]);
  const positions = prompt.ropeIndex.positions.map((p) => p.map((a) => [...a]));
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const stepLogits: Float64Array[][] = Array.from({ length: B }, () => []);
  const done = new Array<boolean>(B).fill(false);
  let last = prompt.logits;
  for (let k = 0; k < options.maxNewTokens; k++) {
    for (let b = 0; b < B; b++) {
      const lg = last[b]!;
      stepLogits[b]!.push(lg);
      let best = 0;
      for (let t = 1; t < lg.length; t++) if (lg[t]! > lg[best]!) best = t;
      const tok = done[b] ? options.padTokenId ?? 0 : best;
      tokens[b]!.push(tok);
      if (options.eosTokenIds?.includes(tok)) done[b] = true;
      ids[b]!.push(tok);
      mask[b]!.push(1);
      const p = L + k + prompt.ropeIndex.ropeDeltas[b]!;
      for (const axis of positions[b]!) axis.push(p);
    }
    if (done.every(Boolean) || k + 1 === options.maxNewTokens) break;
    last = referenceQwenVl(cfg, w, { ids, attentionMask: mask, images: input.images, positions }, { lastOnly: true, imageEmbeds: prompt.imageEmbeds ?? undefined }).logits;
  }
  return { tokens, stepLogits };
}

/**
 * The processor's prompt expansion: every `<|image_pad|>` (one per image,
 * in order) becomes t*h*w/merge^2 copies of itself (processing_qwen2_vl:
 * replace image_token by n placeholders, one image at a time).
 */
export function expandImagePads(ids: readonly number[], grids: readonly GridThw[], imageTokenId: number, mergeSize: number, firstImage = 0): { ids: number[]; imagesUsed: number } {
  const out: number[] = [];
  let k = firstImage;
  for (const id of ids) {
    if (id !== imageTokenId) {
      out.push(id);
      continue;
    }
    const g = grids[k++];
    if (!g) throw new Error('expandImagePads: more image pads than grids');
    for (let i = 0; i < (g[0] * g[1] * g[2]) / (mergeSize * mergeSize); i++) out.push(imageTokenId);
  }
  return { ids: out, imagesUsed: k - firstImage };
}

/** Reads a checkpoint directory (either naming, any float dtype) into a hub-named float64 weight map and a reference config. */
export async function loadQwenVlReference(dir: string): Promise<{ config: QwenVlRefConfig; weights: Map<string, RefTensor> }> {
  const { Checkpoint } = await import('../../../src/engine/checkpoint/index.js');
  const ckpt = await Checkpoint.open(dir);
  try {
    const list: [string, { shape: number[]; data: Float32Array }][] = [];
    for (const [name, info] of ckpt.tensors) list.push([name, { shape: info.shape, data: await ckpt.readFloat32(name) }]);
    return { config: readQwenVlConfig(ckpt.config), weights: refWeights(list) };
  } finally {
    await ckpt.close();
  }
}
