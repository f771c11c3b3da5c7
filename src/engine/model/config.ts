/**
 * config.json of a runnable model (docs/model.md, "config.json"): typed,
 * defaults filled in, and refused early when the engine could not run it
 * faithfully. Each model family reads its own keys (families/<family>/config.ts);
 * this module holds the parsed shape every family produces.
 */
import { isObject, ModelConfigError, type TextModelKeys } from './config-reader.js';
import { familyOf } from './families/index.js';
import type { Qwen2VLImageProcessorConfig } from './families/qwen-vl/image-processor.js';

export { ModelConfigError } from './config-reader.js';

/** The model types the engine runs. */
export type ModelType = 'qwen2' | 'frankenscope_vl' | 'qwen2_vl' | 'qwen2_5_vl';

/** The fixed image geometry of `frankenscope_vl`: every image is resized to it. */
export interface FixedImageGeometry {
  /** [height, width] every image is resized to */
  imageSize: [number, number];
  /** per channel, length inChannels */
  imageMean: number[];
  /** per channel, length inChannels */
  imageStd: number[];
  /** h / p */
  gridRows: number;
  /** w / p */
  gridCols: number;
  /** gridRows · gridCols */
  numPatches: number;
  /** numPatches / m² (n_v) */
  numVisualTokens: number;
}

/**
 * How a vision block computes: RMSNorm + SwiGLU MLP with biases (Qwen2.5-VL,
 * frankenscope_vl) or LayerNorm + QuickGELU fc1/fc2 MLP (Qwen2-VL).
 */
export type VisionBlockKind = 'rms_swiglu' | 'layernorm_quickgelu';

/** The vision tower and projector. */
export interface VisionConfig {
  /** vision blocks (Dv) */
  depth: number;
  /** vision width (Hv) */
  hiddenSize: number;
  /** vision MLP width (Iv) */
  intermediateSize: number;
  /** vision heads (nhv) */
  numHeads: number;
  /** Hv / nhv, divisible by 4 (2-D rotary) */
  headDim: number;
  patchSize: number;
  temporalPatchSize: number;
  spatialMergeSize: number;
  inChannels: number;
  /** epsilon of the block norms and the projector's norm */
  rmsNormEps: number;
  block: VisionBlockKind;
  /** the projector's norm (`visual.merger.ln_q`) */
  mergerNorm: 'rms' | 'layernorm';
  /** Qwen2.5-VL window attention: window side in pixels; null when every block attends to the whole image */
  windowSize: number | null;
  /** blocks that attend to the whole image when `windowSize` is set */
  fullAttentionBlocks: readonly number[];
  /** frankenscope_vl's fixed geometry; null where every image keeps its own size (the Qwen-VL image processor) */
  fixed: FixedImageGeometry | null;
  /** the Qwen-VL image processor's settings (preprocessor_config.json with transformers' defaults); null for fixed-size models */
  processor: Qwen2VLImageProcessorConfig | null;
}

/** A parsed, validated model configuration (docs/model.md): the language-model keys every family reads, and what differs. */
export interface ModelConfig extends TextModelKeys {
  modelType: ModelType;
  ropeTheta: number;
  /** M-RoPE: the head's d/2 rotary frequencies split over the temporal, height and width positions; null for 1-D RoPE */
  mropeSection: readonly [number, number, number] | null;
  /** null for text-only models */
  imageTokenId: number | null;
  visionStartTokenId: number | null;
  visionEndTokenId: number | null;
  /** present exactly for vision-language models */
  vision?: VisionConfig;
}

/** Files beside config.json that complete a model's configuration. */
export interface ConfigCompanions {
  /** generation_config.json, decoded: its eos ids join config.json's */
  generationConfig?: unknown;
  /** preprocessor_config.json, decoded: the image processor of families whose images keep their own size */
  preprocessorConfig?: unknown;
}

/**
 * Parses config.json (already JSON-decoded) into a {@link ModelConfig} with
 * the rules of its model type's family.
 * @throws ModelConfigError naming the key: unknown `model_type`, unsupported
 *   rope scaling or attention variants, missing/mistyped keys, sizes that do not fit together
 */
export function parseModelConfig(json: unknown, companions: ConfigCompanions = {}): ModelConfig {
  if (!isObject(json)) throw new ModelConfigError('(root)', `config.json must hold a JSON object, got ${Array.isArray(json) ? 'an array' : JSON.stringify(json)}`);
  const config = familyOf(json.model_type).parseConfig(json, companions);
  const generation = companions.generationConfig;
  if (isObject(generation) && generation.eos_token_id !== undefined && generation.eos_token_id !== null) {
    const list = Array.isArray(generation.eos_token_id) ? generation.eos_token_id : [generation.eos_token_id];
    if (!list.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 && x < config.vocabSize)) {
      throw new ModelConfigError('eos_token_id', `generation_config.json: 'eos_token_id' must be a token id or a list of token ids below vocab_size ${config.vocabSize}, got ${JSON.stringify(generation.eos_token_id)}`);
    }
    config.eosTokenIds = [...new Set([...config.eosTokenIds, ...(list as number[])])];
  }
  return config;
}
