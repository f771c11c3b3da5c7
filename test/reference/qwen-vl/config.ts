/**
 * A small, independent reader of Hugging Face Qwen2-VL / Qwen2.5-VL config.json
 * files for the float64 reference. Written from transformers'
 * configuration_qwen2_vl.py / configuration_qwen2_5_vl.py and
 * modeling_rope_utils.standardize_rope_params; it shares nothing with
 * src/engine/model/config.ts.
 *
 * Rules (HF behaviour):
 * - text keys are flat at the top level (hub files), or in a nested
 *   `text_config` (re-saved files; then HF ignores flat text keys, we only fall
 *   back to them for a key the nested object lacks);
 * - the rope dict is `rope_scaling` (`{"type": "mrope"}`, `{"type"|"rope_type":
 *   "default"}`) or `rope_parameters`; `mrope_section` is read from it;
 *   `rope_theta` inside the rope dict wins over a sibling `rope_theta`; the
 *   default is 1e6 for both families;
 * - head size is hidden_size / num_attention_heads (the attention classes
 *   compute it so, ignoring any `head_dim` key);
 * - `use_sliding_window: false` makes every layer full attention; with true,
 *   layers i >= max_window_layers use a window of `sliding_window`;
 * - vision: Qwen2-VL width is `embed_dim`, MLP `embed_dim * mlp_ratio`,
 *   activation `hidden_act` (default quick_gelu), merger output `hidden_size`;
 *   Qwen2.5-VL width is `hidden_size`, MLP `intermediate_size`, activation
 *   default silu, merger output `out_hidden_size`.
 */

export type QwenVlFamily = 'qwen2_vl' | 'qwen2_5_vl';

export interface QwenVlVisionRefConfig {
  depth: number;
  /** width of the vision blocks (Qwen2-VL `embed_dim`, Qwen2.5-VL `hidden_size`) */
  width: number;
  numHeads: number;
  /** hidden size of a block's MLP */
  mlpHidden: number;
  /** ACT2FN name of the block MLP activation */
  act: string;
  patchSize: number;
  temporalPatchSize: number;
  mergeSize: number;
  inChannels: number;
  /** width of the merger output (the LLM hidden size) */
  outHidden: number;
  /** Qwen2.5-VL: window side in pixels */
  windowSize: number;
  /** Qwen2.5-VL: blocks with whole-image attention (Qwen2-VL: every block) */
  fullattBlockIndexes: number[];
  tokensPerSecond: number;
}

export interface QwenVlRefConfig {
  family: QwenVlFamily;
  hidden: number;
  intermediate: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  rmsEps: number;
  hiddenAct: string;
  ropeTheta: number;
  mropeSection: [number, number, number];
  tieWordEmbeddings: boolean;
  /** per layer: the sliding window, or null for full causal attention */
  slidingWindows: (number | null)[];
  imageTokenId: number;
  videoTokenId: number;
  visionStartTokenId: number;
  visionEndTokenId: number;
  vision: QwenVlVisionRefConfig;
}

type Json = Record<string, unknown>;

function isObj(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function num(v: unknown, what: string, dflt?: number): number {
  if (v === undefined || v === null) {
    if (dflt === undefined) throw new Error(`config: '${what}' is missing`);
    return dflt;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`config: '${what}' is not a number: ${JSON.stringify(v)}`);
  return v;
}

/** Reads a Qwen2-VL or Qwen2.5-VL config.json object. */
export function readQwenVlConfig(json: Json): QwenVlRefConfig {
  const family = json.model_type;
  if (family !== 'qwen2_vl' && family !== 'qwen2_5_vl') throw new Error(`config: model_type ${JSON.stringify(family)} is not qwen2_vl / qwen2_5_vl`);
  const nested = isObj(json.text_config) ? json.text_config : undefined;
  const text = (key: string): unknown => (nested && nested[key] !== undefined ? nested[key] : json[key]);

  const hidden = num(text('hidden_size'), 'hidden_size');
  const numHeads = num(text('num_attention_heads'), 'num_attention_heads');
  const numKvHeads = num(text('num_key_value_heads'), 'num_key_value_heads', numHeads);
  const numLayers = num(text('num_hidden_layers'), 'num_hidden_layers');
  if (hidden % numHeads !== 0) throw new Error('config: hidden_size not divisible by num_attention_heads');
  const headDim = hidden / numHeads;

  const ropeDict = [text('rope_parameters'), text('rope_scaling')].find(isObj);
  const ropeType = ropeDict ? (ropeDict.rope_type ?? ropeDict.type ?? 'default') : 'default';
  if (ropeType !== 'mrope' && ropeType !== 'default') throw new Error(`config: rope type ${JSON.stringify(ropeType)} is not modelled`);
  const section = ropeDict?.mrope_section;
  if (!Array.isArray(section) || section.length !== 3 || !section.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new Error(`config: mrope_section ${JSON.stringify(section)} is not three integers`);
  }
  const mropeSection = section as [number, number, number];
  if (2 * (mropeSection[0] + mropeSection[1] + mropeSection[2]) !== headDim) {
    throw new Error(`config: 2 * sum(mrope_section) must equal the head size ${headDim}`);
  }
  const ropeTheta = num(ropeDict?.rope_theta ?? text('rope_theta'), 'rope_theta', 1e6);

  const useSliding = text('use_sliding_window') === true;
  const window = num(text('sliding_window'), 'sliding_window', 4096);
  const maxWindowLayers = num(text('max_window_layers'), 'max_window_layers', 80);
  const slidingWindows = Array.from({ length: numLayers }, (_, i) => (useSliding && i >= maxWindowLayers ? window : null));

  const v = isObj(json.vision_config) ? json.vision_config : {};
  const is25 = family === 'qwen2_5_vl';
  const width = is25 ? num(v.hidden_size, 'vision_config.hidden_size', 3584) : num(v.embed_dim, 'vision_config.embed_dim', 1280);
  const depth = num(v.depth, 'vision_config.depth', 32);
  const vision: QwenVlVisionRefConfig = {
    depth,
    width,
    numHeads: num(v.num_heads, 'vision_config.num_heads', 16),
    mlpHidden: is25 ? num(v.intermediate_size, 'vision_config.intermediate_size', 3420) : Math.trunc(width * num(v.mlp_ratio, 'vision_config.mlp_ratio', 4)),
    act: typeof v.hidden_act === 'string' ? v.hidden_act : is25 ? 'silu' : 'quick_gelu',
    patchSize: num(v.patch_size ?? v.spatial_patch_size, 'vision_config.patch_size', 14),
    temporalPatchSize: num(v.temporal_patch_size, 'vision_config.temporal_patch_size', 2),
    mergeSize: num(v.spatial_merge_size, 'vision_config.spatial_merge_size', 2),
    inChannels: num(v.in_channels ?? v.in_chans, 'vision_config.in_channels', 3),
    outHidden: is25 ? num(v.out_hidden_size, 'vision_config.out_hidden_size', 3584) : num(v.hidden_size, 'vision_config.hidden_size', 3584),
    windowSize: is25 ? num(v.window_size, 'vision_config.window_size', 112) : 0,
    fullattBlockIndexes: is25
      ? Array.isArray(v.fullatt_block_indexes) ? (v.fullatt_block_indexes as number[]) : [7, 15, 23, 31]
      : Array.from({ length: depth }, (_, i) => i),
    tokensPerSecond: num(v.tokens_per_second, 'vision_config.tokens_per_second', 4),
  };
  if (vision.width % vision.numHeads !== 0) throw new Error('config: vision width not divisible by its heads');

  const tie = nested && typeof nested.tie_word_embeddings === 'boolean' ? nested.tie_word_embeddings : json.tie_word_embeddings;
  return {
    family,
    hidden,
    intermediate: num(text('intermediate_size'), 'intermediate_size'),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: num(text('vocab_size'), 'vocab_size', 152064),
    rmsEps: num(text('rms_norm_eps'), 'rms_norm_eps', 1e-5),
    hiddenAct: typeof text('hidden_act') === 'string' ? (text('hidden_act') as string) : 'silu',
    ropeTheta,
    mropeSection,
    tieWordEmbeddings: tie === true,
    slidingWindows,
    imageTokenId: num(json.image_token_id, 'image_token_id', 151655),
    videoTokenId: num(json.video_token_id, 'video_token_id', 151656),
    visionStartTokenId: num(json.vision_start_token_id, 'vision_start_token_id', 151652),
    visionEndTokenId: num(json.vision_end_token_id, 'vision_end_token_id', 151653),
    vision,
  };
}
