/**
 * config.json of Qwen2-VL (`qwen2_vl`) and Qwen2.5-VL (`qwen2_5_vl`) as the
 * hub ships it (language keys at the top level) or as transformers re-saves
 * it (a nested `text_config`), following transformers' configuration classes
 * (configuration_qwen2_vl.py, configuration_qwen2_5_vl.py): their defaults
 * apply to absent keys, and anything the engine would run differently from
 * transformers is refused by key.
 */
import { checkTokenId, isObject, ModelConfigError, parseTextModel, Reader, requireActivation, type Json } from '../../config-reader.js';
import type { ConfigCompanions, ModelConfig, VisionConfig } from '../../config.js';
import { parseQwen2VLPreprocessorConfig, QWEN2VL_IMAGE_PROCESSOR_DEFAULTS, QwenImageError, type Qwen2VLImageProcessorConfig } from './image-processor.js';

type QwenVlType = 'qwen2_vl' | 'qwen2_5_vl';

/** The composite config's token ids (Qwen2VLConfig / Qwen2_5_VLConfig defaults). */
const TOKEN_DEFAULTS = { image_token_id: 151655, vision_start_token_id: 151652, vision_end_token_id: 151653 } as const;

/** Every vision norm is built with eps 1e-6 in transformers, whatever the config says. */
const VISION_NORM_EPS = 1e-6;

/**
 * The rotary settings: `rope_scaling` (hub: type "mrope"; re-saved: type
 * "default" plus `mrope_section`) or `rope_parameters` (newest spelling,
 * which may also carry `rope_theta`).
 */
function parseRope(r: Reader, headDim: number): { theta: number; section: [number, number, number] } {
  const key = r.has('rope_scaling') ? 'rope_scaling' : r.has('rope_parameters') ? 'rope_parameters' : null;
  const name = key ? r.name(key) : r.name('rope_scaling');
  const rope = key ? r.raw(key) : undefined;
  if (!isObject(rope)) {
    throw new ModelConfigError(name, `config.json: '${name}' with an 'mrope_section' is required for this model type (M-RoPE), got ${JSON.stringify(rope)}`);
  }
  const type = rope.rope_type ?? rope.type ?? 'default';
  if (type !== 'default' && type !== 'mrope') {
    throw new ModelConfigError(`${name}.rope_type`, `config.json: '${name}' type ${JSON.stringify(type)} is not built; only M-RoPE without scaling ("mrope" or "default" with 'mrope_section') is supported`);
  }
  const unknown = Object.keys(rope).filter((k) => !['type', 'rope_type', 'mrope_section', 'rope_theta'].includes(k));
  if (unknown.length > 0) {
    throw new ModelConfigError(`${name}.${unknown[0]}`, `config.json: '${name}' holds ${unknown.map((k) => `'${k}'`).join(', ')}: rope scaling is not built`);
  }
  const section = rope.mrope_section;
  if (!Array.isArray(section) || section.length !== 3 || !section.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x > 0)) {
    throw new ModelConfigError(`${name}.mrope_section`, `config.json: '${name}.mrope_section' must be three positive integers [temporal, height, width], got ${JSON.stringify(section)}`);
  }
  const total = (section as number[]).reduce((a, b) => a + b, 0);
  if (total !== headDim / 2) {
    throw new ModelConfigError(`${name}.mrope_section`, `config.json: '${name}.mrope_section' ${JSON.stringify(section)} sums to ${total}; it must cover the head's ${headDim / 2} rotary frequencies (head_dim / 2)`);
  }
  let theta = r.positive('rope_theta', 1_000_000);
  if (rope.rope_theta !== undefined) {
    if (typeof rope.rope_theta !== 'number' || !(rope.rope_theta > 0)) throw new ModelConfigError(`${name}.rope_theta`, `config.json: '${name}.rope_theta' must be a positive number, got ${JSON.stringify(rope.rope_theta)}`);
    theta = rope.rope_theta;
  }
  return { theta, section: section as [number, number, number] };
}

function checkHeads(key: string, width: number, heads: number): number {
  if (width % heads !== 0) throw new ModelConfigError(key, `config.json: the vision width ${width} is not a multiple of '${key}' (${heads})`);
  const headDim = width / heads;
  if (headDim % 4 !== 0) throw new ModelConfigError(key, `config.json: the vision head size ${headDim} must be divisible by 4 (2-D rotary)`);
  return headDim;
}

/** The image processor's settings; its patch geometry must be the vision tower's. */
function parseProcessor(json: unknown, v: Pick<VisionConfig, 'patchSize' | 'temporalPatchSize' | 'spatialMergeSize'>): Qwen2VLImageProcessorConfig {
  let processor: Qwen2VLImageProcessorConfig;
  try {
    processor = json === undefined ? QWEN2VL_IMAGE_PROCESSOR_DEFAULTS : parseQwen2VLPreprocessorConfig(json);
  } catch (e) {
    if (e instanceof QwenImageError) throw new ModelConfigError('preprocessor_config.json', `preprocessor_config.json: ${e.message}`);
    throw e;
  }
  const pairs: [string, number, string, number][] = [
    ['patch_size', processor.patchSize, 'vision_config.patch_size', v.patchSize],
    ['temporal_patch_size', processor.temporalPatchSize, 'vision_config.temporal_patch_size', v.temporalPatchSize],
    ['merge_size', processor.mergeSize, 'vision_config.spatial_merge_size', v.spatialMergeSize],
  ];
  for (const [key, value, visionKey, expected] of pairs) {
    if (value !== expected) throw new ModelConfigError(`preprocessor_config.json:${key}`, `preprocessor_config.json: '${key}' (${value}) differs from config.json's '${visionKey}' (${expected})`);
  }
  return processor;
}

function parseVision(raw: unknown, modelType: QwenVlType, textHidden: number, preprocessor: unknown): VisionConfig {
  if (!isObject(raw)) throw new ModelConfigError('vision_config', `config.json: 'vision_config' (an object) is required for model_type "${modelType}"`);
  const r = new Reader([raw], 'vision_config.');
  const common = {
    depth: r.int('depth', 32),
    numHeads: r.int('num_heads', 16),
    patchSize: r.int('patch_size', 14),
    temporalPatchSize: r.int('temporal_patch_size', 2),
    spatialMergeSize: r.int('spatial_merge_size', 2),
    inChannels: r.has('in_channels') ? r.int('in_channels') : r.int('in_chans', 3),
    rmsNormEps: VISION_NORM_EPS,
  };
  if (modelType === 'qwen2_vl') {
    // Qwen2-VL: blocks are embed_dim wide; hidden_size is the projector's output (the language model's width)
    requireActivation(r, 'quick_gelu', 'quick_gelu');
    const width = r.int('embed_dim', 1280);
    const out = r.int('hidden_size', 3584);
    if (out !== textHidden) throw new ModelConfigError('vision_config.hidden_size', `config.json: 'vision_config.hidden_size' (${out}) is the projector's output and must equal the language model's 'hidden_size' (${textHidden})`);
    const ratio = r.positive('mlp_ratio', 4);
    const intermediate = width * ratio;
    if (!Number.isSafeInteger(intermediate)) throw new ModelConfigError('vision_config.mlp_ratio', `config.json: 'vision_config.embed_dim' x 'mlp_ratio' = ${intermediate} is not an integer`);
    return {
      ...common, hiddenSize: width, intermediateSize: intermediate, headDim: checkHeads('vision_config.num_heads', width, common.numHeads),
      block: 'layernorm_quickgelu', mergerNorm: 'layernorm', windowSize: null, fullAttentionBlocks: [], fixed: null,
      processor: parseProcessor(preprocessor, common),
    };
  }
  requireActivation(r, 'silu', 'silu');
  const width = r.int('hidden_size', 3584);
  const out = r.int('out_hidden_size', 3584);
  if (out !== textHidden) throw new ModelConfigError('vision_config.out_hidden_size', `config.json: 'vision_config.out_hidden_size' (${out}) must equal the language model's 'hidden_size' (${textHidden})`);
  const fullRaw = r.raw('fullatt_block_indexes') ?? [7, 15, 23, 31];
  if (!Array.isArray(fullRaw) || !fullRaw.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw new ModelConfigError('vision_config.fullatt_block_indexes', `config.json: 'vision_config.fullatt_block_indexes' must be a list of block indexes, got ${JSON.stringify(fullRaw)}`);
  }
  const windowSize = r.int('window_size', 112);
  if (windowSize < common.patchSize * common.spatialMergeSize) {
    throw new ModelConfigError('vision_config.window_size', `config.json: 'vision_config.window_size' (${windowSize}) is smaller than one merged token (${common.patchSize * common.spatialMergeSize} pixels)`);
  }
  return {
    ...common, hiddenSize: width, intermediateSize: r.int('intermediate_size', 3420), headDim: checkHeads('vision_config.num_heads', width, common.numHeads),
    block: 'rms_swiglu', mergerNorm: 'rms', windowSize, fullAttentionBlocks: fullRaw as number[], fixed: null,
    processor: parseProcessor(preprocessor, common),
  };
}

/** Parses a Qwen2-VL or Qwen2.5-VL config.json. */
export function parseQwenVlConfig(json: Json, modelType: QwenVlType, companions: ConfigCompanions = {}): ModelConfig {
  const nested = json.text_config;
  if (nested !== undefined && nested !== null && !isObject(nested)) throw new ModelConfigError('text_config', `config.json: 'text_config' must be an object`);
  // transformers builds the text config from text_config alone when it exists, else from the top-level keys
  const r = new Reader(isObject(nested) ? [nested] : [json], isObject(nested) ? 'text_config.' : '');
  requireActivation(r, 'silu', 'silu');
  // the Qwen-VL attention takes its head size from hidden_size / num_attention_heads, ignoring any head_dim key
  const text = parseTextModel(r, { rmsNormEps: 1e-5, readHeadDim: false });
  if (isObject(nested) && nested.tie_word_embeddings === undefined && typeof json.tie_word_embeddings === 'boolean') {
    text.tieWordEmbeddings = json.tie_word_embeddings;
  }
  if (isObject(nested) && text.eosTokenIds.length === 0) {
    text.eosTokenIds = parseEosAtTop(json, text.vocabSize);
  }
  const rope = parseRope(r, text.headDim);
  const top = new Reader([json], '');
  const ids = {
    image: top.int('image_token_id', TOKEN_DEFAULTS.image_token_id, 0),
    start: top.int('vision_start_token_id', TOKEN_DEFAULTS.vision_start_token_id, 0),
    end: top.int('vision_end_token_id', TOKEN_DEFAULTS.vision_end_token_id, 0),
  };
  checkTokenId('image_token_id', ids.image, text.vocabSize);
  checkTokenId('vision_start_token_id', ids.start, text.vocabSize);
  checkTokenId('vision_end_token_id', ids.end, text.vocabSize);
  return {
    modelType,
    ...text,
    ropeTheta: rope.theta,
    mropeSection: rope.section,
    imageTokenId: ids.image,
    visionStartTokenId: ids.start,
    visionEndTokenId: ids.end,
    vision: parseVision(json.vision_config, modelType, text.hiddenSize, companions.preprocessorConfig),
  };
}

function parseEosAtTop(json: Json, vocabSize: number): number[] {
  const v = json.eos_token_id;
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 && x < vocabSize)) {
    throw new ModelConfigError('eos_token_id', `config.json: 'eos_token_id' must be a token id or a list of token ids below vocab_size ${vocabSize}, got ${JSON.stringify(v)}`);
  }
  return [...new Set(list as number[])];
}
