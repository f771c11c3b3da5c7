/**
 * config.json of a runnable model (docs/model.md, "config.json"): typed,
 * defaults filled in, and refused early when the engine could not run it
 * faithfully (unknown model type, M-RoPE / scaled RoPE, sizes that do not fit).
 */

/** A config.json key that is missing, mistyped or inconsistent; `key` names it (dotted for nested keys). */
export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
  /** the offending key, e.g. `num_key_value_heads` or `vision_config.image_size` */
  readonly key: string;

  constructor(key: string, message: string) {
    super(message);
    this.key = key;
  }
}

/** The vision tower and projector of a `frankenscope_vl` model. */
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
  rmsNormEps: number;
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

/** A parsed, validated model configuration (docs/model.md). */
export interface ModelConfig {
  modelType: 'qwen2' | 'frankenscope_vl';
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  vocabSize: number;
  tieWordEmbeddings: boolean;
  /** generation stops at any of them; empty when config.json names none */
  eosTokenIds: number[];
  bosTokenId: number | null;
  addBosToken: boolean;
  /** null for text-only models */
  imageTokenId: number | null;
  visionStartTokenId: number | null;
  visionEndTokenId: number | null;
  /** present exactly for `frankenscope_vl` */
  vision?: VisionConfig;
}

const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Reads keys from one or two JSON objects (the first that holds a non-null value wins). */
class Reader {
  constructor(
    private readonly sources: Json[],
    private readonly prefix: string,
  ) {}

  #raw(key: string): unknown {
    for (const s of this.sources) if (s[key] !== undefined && s[key] !== null) return s[key];
    return undefined;
  }

  name(key: string): string {
    return this.prefix + key;
  }

  has(key: string): boolean {
    return this.#raw(key) !== undefined;
  }

  int(key: string, fallback?: number, min = 1): number {
    const v = this.#raw(key);
    if (v === undefined) {
      if (fallback === undefined) throw new ModelConfigError(this.name(key), `config.json: '${this.name(key)}' is required`);
      return fallback;
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new ModelConfigError(this.name(key), `config.json: '${this.name(key)}' must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  optionalId(key: string): number | null {
    return this.has(key) ? this.int(key, undefined, 0) : null;
  }

  positive(key: string, fallback: number): number {
    const v = this.#raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new ModelConfigError(this.name(key), `config.json: '${this.name(key)}' must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.#raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new ModelConfigError(this.name(key), `config.json: '${this.name(key)}' must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  numbers(key: string, fallback: number[], length: number): number[] {
    const v = this.#raw(key);
    if (v === undefined) return [...fallback];
    if (!Array.isArray(v) || v.length !== length || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new ModelConfigError(this.name(key), `config.json: '${this.name(key)}' must be an array of ${length} finite numbers, got ${JSON.stringify(v)}`);
    }
    return v as number[];
  }

  raw(key: string): unknown {
    return this.#raw(key);
  }
}

function refuseActivation(r: Reader): void {
  const act = r.raw('hidden_act');
  if (act !== undefined && act !== 'silu') {
    throw new ModelConfigError(r.name('hidden_act'), `config.json: '${r.name('hidden_act')}' is ${JSON.stringify(act)}; only "silu" is built`);
  }
}

function checkRopeScaling(r: Reader): void {
  const rs = r.raw('rope_scaling');
  if (rs === undefined) return;
  const key = r.name('rope_scaling');
  const ok =
    isObject(rs) &&
    Object.keys(rs).length > 0 &&
    Object.entries(rs).every(([k, v]) => (k === 'type' || k === 'rope_type') && v === 'default');
  if (!ok) {
    throw new ModelConfigError(key, `config.json: '${key}' is ${JSON.stringify(rs)}; only absent, null or {"type": "default"} is supported (scaled RoPE and M-RoPE are not built)`);
  }
}

function parseEos(r: Reader): number[] {
  const v = r.raw('eos_token_id');
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw new ModelConfigError(r.name('eos_token_id'), `config.json: 'eos_token_id' must be a token id or a list of token ids, got ${JSON.stringify(v)}`);
  }
  return [...new Set(list as number[])];
}

function parseVision(root: Json, hidden: number): VisionConfig {
  const raw = root.vision_config;
  if (!isObject(raw)) throw new ModelConfigError('vision_config', `config.json: 'vision_config' (an object) is required for model_type "frankenscope_vl"`);
  const r = new Reader([raw], 'vision_config.');
  refuseActivation(r);
  const depth = r.int('depth');
  const hiddenSize = r.int('hidden_size');
  const intermediateSize = r.int('intermediate_size');
  const numHeads = r.int('num_heads');
  const patchSize = r.int('patch_size');
  const temporalPatchSize = r.int('temporal_patch_size', 2);
  const spatialMergeSize = r.int('spatial_merge_size', 2);
  const inChannels = r.has('in_channels') ? r.int('in_channels') : r.int('in_chans', 3);
  const rmsNormEps = r.positive('rms_norm_eps', 1e-6);
  if (hiddenSize % numHeads !== 0) {
    throw new ModelConfigError('vision_config.num_heads', `config.json: 'vision_config.hidden_size' (${hiddenSize}) is not a multiple of 'vision_config.num_heads' (${numHeads})`);
  }
  const headDim = hiddenSize / numHeads;
  if (headDim % 4 !== 0) {
    throw new ModelConfigError('vision_config.num_heads', `config.json: the vision head size hidden_size/num_heads = ${headDim} must be divisible by 4 (2-D rotary)`);
  }
  if (r.has('out_hidden_size') && r.int('out_hidden_size') !== hidden) {
    throw new ModelConfigError('vision_config.out_hidden_size', `config.json: 'vision_config.out_hidden_size' (${String(r.raw('out_hidden_size'))}) must equal 'hidden_size' (${hidden})`);
  }
  const block = patchSize * spatialMergeSize;
  const sizeRaw = r.raw('image_size');
  let imageSize: [number, number] = [4 * block, 4 * block];
  if (sizeRaw !== undefined) {
    const pair = typeof sizeRaw === 'number' ? [sizeRaw, sizeRaw] : sizeRaw;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x > 0)) {
      throw new ModelConfigError('vision_config.image_size', `config.json: 'vision_config.image_size' must be [height, width] in pixels, got ${JSON.stringify(sizeRaw)}`);
    }
    imageSize = [pair[0] as number, pair[1] as number];
  }
  if (imageSize[0] % block !== 0 || imageSize[1] % block !== 0) {
    throw new ModelConfigError('vision_config.image_size', `config.json: 'vision_config.image_size' ${JSON.stringify(imageSize)} must be divisible by patch_size·spatial_merge_size = ${block} on both sides`);
  }
  const imageMean = r.numbers('image_mean', CLIP_MEAN, inChannels);
  const imageStd = r.numbers('image_std', CLIP_STD, inChannels);
  if (!imageStd.every((s) => s > 0)) throw new ModelConfigError('vision_config.image_std', `config.json: 'vision_config.image_std' must be positive, got ${JSON.stringify(imageStd)}`);
  if (r.has('image_mean') === false && inChannels !== 3) {
    throw new ModelConfigError('vision_config.image_mean', `config.json: 'vision_config.image_mean' is required when in_channels is ${inChannels} (the CLIP default has 3 channels)`);
  }
  const gridRows = imageSize[0] / patchSize;
  const gridCols = imageSize[1] / patchSize;
  const numPatches = gridRows * gridCols;
  return {
    depth, hiddenSize, intermediateSize, numHeads, headDim, patchSize, temporalPatchSize, spatialMergeSize, inChannels, rmsNormEps,
    imageSize, imageMean, imageStd, gridRows, gridCols, numPatches,
    numVisualTokens: numPatches / (spatialMergeSize * spatialMergeSize),
  };
}

/**
 * Parses config.json (already JSON-decoded) into a {@link ModelConfig}.
 * Language-model keys are read from `text_config` when it exists, falling back to the top level.
 * @throws ModelConfigError naming the key: unknown or unrunnable `model_type` (including `qwen2_5_vl`),
 *   unsupported `rope_scaling`, missing/mistyped keys, sizes that do not fit together
 */
export function parseModelConfig(json: unknown): ModelConfig {
  if (!isObject(json)) throw new ModelConfigError('(root)', `config.json must hold a JSON object, got ${Array.isArray(json) ? 'an array' : JSON.stringify(json)}`);
  const modelType = json.model_type;
  if (modelType === 'qwen2_5_vl') {
    throw new ModelConfigError('model_type', `config.json: model_type "qwen2_5_vl" can be characterized but not run: real Qwen2.5-VL uses window attention and M-RoPE, which the engine does not build (use "frankenscope_vl" for models of the supported architecture)`);
  }
  if (modelType !== 'qwen2' && modelType !== 'frankenscope_vl') {
    throw new ModelConfigError('model_type', `config.json: 'model_type' must be "qwen2" or "frankenscope_vl", got ${JSON.stringify(modelType)}`);
  }
  const text = json.text_config;
  if (text !== undefined && text !== null && !isObject(text)) throw new ModelConfigError('text_config', `config.json: 'text_config' must be an object`);
  const r = new Reader(isObject(text) ? [text, json] : [json], '');
  refuseActivation(r);
  checkRopeScaling(r);
  if (r.bool('use_sliding_window', false)) {
    throw new ModelConfigError('use_sliding_window', `config.json: 'use_sliding_window' is true; sliding-window attention is not built`);
  }

  const hiddenSize = r.int('hidden_size');
  const intermediateSize = r.int('intermediate_size');
  const numLayers = r.int('num_hidden_layers');
  const numHeads = r.int('num_attention_heads');
  const numKvHeads = r.int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ModelConfigError('num_key_value_heads', `config.json: 'num_attention_heads' (${numHeads}) must be a multiple of 'num_key_value_heads' (${numKvHeads})`);
  }
  let headDim: number;
  if (r.has('head_dim')) headDim = r.int('head_dim');
  else if (hiddenSize % numHeads !== 0) {
    throw new ModelConfigError('num_attention_heads', `config.json: 'hidden_size' (${hiddenSize}) is not a multiple of 'num_attention_heads' (${numHeads}) and no 'head_dim' is given`);
  } else headDim = hiddenSize / numHeads;
  if (headDim % 2 !== 0) throw new ModelConfigError(r.has('head_dim') ? 'head_dim' : 'num_attention_heads', `config.json: the head size ${headDim} must be even (RoPE rotates halves)`);

  const vocabSize = r.int('vocab_size');
  const checkId = (key: string, id: number | null): void => {
    if (id !== null && id >= vocabSize) throw new ModelConfigError(key, `config.json: '${key}' (${id}) is not below 'vocab_size' (${vocabSize})`);
  };
  const eosTokenIds = parseEos(r);
  for (const id of eosTokenIds) checkId('eos_token_id', id);
  const bosTokenId = r.optionalId('bos_token_id');
  checkId('bos_token_id', bosTokenId);
  const addBosToken = r.bool('add_bos_token', false);
  if (addBosToken && bosTokenId === null) throw new ModelConfigError('bos_token_id', `config.json: 'add_bos_token' is true but 'bos_token_id' is not set`);

  const config: ModelConfig = {
    modelType, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
    rmsNormEps: r.positive('rms_norm_eps', 1e-6),
    ropeTheta: r.positive('rope_theta', 10000),
    vocabSize,
    tieWordEmbeddings: r.bool('tie_word_embeddings', false),
    eosTokenIds, bosTokenId, addBosToken,
    imageTokenId: null, visionStartTokenId: null, visionEndTokenId: null,
  };
  if (modelType === 'frankenscope_vl') {
    const top = new Reader([json, ...(isObject(text) ? [text] : [])], '');
    config.imageTokenId = top.int('image_token_id', undefined, 0);
    config.visionStartTokenId = top.optionalId('vision_start_token_id');
    config.visionEndTokenId = top.optionalId('vision_end_token_id');
    checkId('image_token_id', config.imageTokenId);
    checkId('vision_start_token_id', config.visionStartTokenId);
    checkId('vision_end_token_id', config.visionEndTokenId);
    config.vision = parseVision(json, hiddenSize);
  }
  return config;
}
