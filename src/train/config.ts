/**
 * Sizes of the trainable text model (docs/model.md, `qwen2`) and the
 * config.json the ONNX engine reads for a checkpoint of it.
 */

/** The vision tower and projector of a `frankenscope_vl` model (docs/model.md). */
export interface VisionTrainConfig {
  depth: number;
  hidden: number;
  intermediate: number;
  numHeads: number;
  patchSize: number;
  /** [2] */
  temporalPatchSize?: number;
  /** [2] */
  spatialMergeSize?: number;
  /** [3] */
  inChannels?: number;
  /** [height, width], both divisible by patchSize·spatialMergeSize */
  imageSize: [number, number];
  /** [1e-6] */
  rmsNormEps?: number;
}

/** A {@link VisionTrainConfig} with defaults filled in and derived sizes. */
export interface ResolvedVision {
  depth: number;
  hidden: number;
  intermediate: number;
  numHeads: number;
  headDim: number;
  patchSize: number;
  temporalPatchSize: number;
  spatialMergeSize: number;
  inChannels: number;
  imageSize: [number, number];
  rmsNormEps: number;
  gridRows: number;
  gridCols: number;
  numPatches: number;
  /** n_v = N / m² */
  numVisualTokens: number;
}

/** Fills vision defaults and rejects sizes docs/model.md does not allow. */
export function resolveVision(v: VisionTrainConfig): ResolvedVision {
  const hidden = positiveInt('vision.hidden', v.hidden);
  const numHeads = positiveInt('vision.numHeads', v.numHeads);
  if (hidden % numHeads !== 0 || (hidden / numHeads) % 4 !== 0) {
    throw new RangeError(`'vision.hidden' / 'vision.numHeads' (${hidden}/${numHeads}) must be an integer divisible by 4`);
  }
  const patchSize = positiveInt('vision.patchSize', v.patchSize);
  const m = positiveInt('vision.spatialMergeSize', v.spatialMergeSize ?? 2);
  const [h, w] = v.imageSize;
  if (h % (patchSize * m) !== 0 || w % (patchSize * m) !== 0) {
    throw new RangeError(`'vision.imageSize' [${h}, ${w}] must be divisible by patchSize·spatialMergeSize = ${patchSize * m}`);
  }
  const gridRows = h / patchSize;
  const gridCols = w / patchSize;
  return {
    depth: positiveInt('vision.depth', v.depth), hidden, intermediate: positiveInt('vision.intermediate', v.intermediate),
    numHeads, headDim: hidden / numHeads, patchSize,
    temporalPatchSize: positiveInt('vision.temporalPatchSize', v.temporalPatchSize ?? 2), spatialMergeSize: m,
    inChannels: positiveInt('vision.inChannels', v.inChannels ?? 3), imageSize: [h, w], rmsNormEps: v.rmsNormEps ?? 1e-6,
    gridRows, gridCols, numPatches: gridRows * gridCols, numVisualTokens: (gridRows * gridCols) / (m * m),
  };
}

/** Shape and constants of the language model being trained (plus an optional vision tower). */
export interface TrainConfig {
  vocabSize: number;
  hidden: number;
  intermediate: number;
  numLayers: number;
  numHeads: number;
  /** [numHeads] */
  numKvHeads?: number;
  /** [hidden / numHeads] */
  headDim?: number;
  /** [10000] */
  ropeTheta?: number;
  /** [1e-6] */
  rmsNormEps?: number;
  /** [false] */
  tieWordEmbeddings?: boolean;
  /** written to config.json when given */
  eosTokenId?: number | number[];
  bosTokenId?: number;
  /** a vision tower: the model becomes `frankenscope_vl` and needs `imageTokenId` */
  vision?: VisionTrainConfig;
  imageTokenId?: number;
  visionStartTokenId?: number;
  visionEndTokenId?: number;
}

/** A {@link TrainConfig} with every default filled in and checked. */
export interface ResolvedConfig {
  vocabSize: number;
  hidden: number;
  intermediate: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  ropeTheta: number;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`'${name}' must be a positive integer, got ${v}`);
  return v;
}

/** Fills defaults and rejects inconsistent sizes. */
export function resolveConfig(c: TrainConfig): ResolvedConfig {
  const numHeads = positiveInt('numHeads', c.numHeads);
  const numKvHeads = positiveInt('numKvHeads', c.numKvHeads ?? numHeads);
  if (numHeads % numKvHeads !== 0) throw new RangeError(`'numHeads' (${numHeads}) must be a multiple of 'numKvHeads' (${numKvHeads})`);
  const hidden = positiveInt('hidden', c.hidden);
  if (c.headDim === undefined && hidden % numHeads !== 0) throw new RangeError(`'hidden' (${hidden}) must be divisible by 'numHeads' (${numHeads})`);
  const headDim = positiveInt('headDim', c.headDim ?? hidden / numHeads);
  if (headDim % 2 !== 0) throw new RangeError(`'headDim' must be even for RoPE, got ${headDim}`);
  if (c.vision !== undefined) {
    resolveVision(c.vision);
    if (c.imageTokenId === undefined || !Number.isInteger(c.imageTokenId) || c.imageTokenId < 0 || c.imageTokenId >= c.vocabSize) {
      throw new RangeError(`'imageTokenId' must be an id in [0, ${c.vocabSize}) when 'vision' is given, got ${c.imageTokenId}`);
    }
  }
  return {
    vocabSize: positiveInt('vocabSize', c.vocabSize),
    hidden,
    intermediate: positiveInt('intermediate', c.intermediate),
    numLayers: positiveInt('numLayers', c.numLayers),
    numHeads,
    numKvHeads,
    headDim,
    ropeTheta: c.ropeTheta ?? 10000,
    rmsNormEps: c.rmsNormEps ?? 1e-6,
    tieWordEmbeddings: c.tieWordEmbeddings ?? false,
  };
}

/** Every tensor name of the model with its `[out, in]` shape, in docs/model.md order. */
export function paramShapes(config: TrainConfig): Map<string, number[]> {
  const c = resolveConfig(config);
  const { hidden: H, intermediate: I, headDim: d } = c;
  const shapes = new Map<string, number[]>();
  if (config.vision !== undefined) {
    const v = resolveVision(config.vision);
    const Hv = v.hidden;
    const M = v.spatialMergeSize ** 2 * Hv;
    shapes.set('visual.patch_embed.proj.weight', [Hv, v.inChannels, v.temporalPatchSize, v.patchSize, v.patchSize]);
    for (let i = 0; i < v.depth; i++) {
      const p = `visual.blocks.${i}.`;
      shapes.set(`${p}norm1.weight`, [Hv]);
      shapes.set(`${p}norm2.weight`, [Hv]);
      shapes.set(`${p}attn.qkv.weight`, [3 * Hv, Hv]);
      shapes.set(`${p}attn.qkv.bias`, [3 * Hv]);
      shapes.set(`${p}attn.proj.weight`, [Hv, Hv]);
      shapes.set(`${p}attn.proj.bias`, [Hv]);
      shapes.set(`${p}mlp.gate_proj.weight`, [v.intermediate, Hv]);
      shapes.set(`${p}mlp.gate_proj.bias`, [v.intermediate]);
      shapes.set(`${p}mlp.up_proj.weight`, [v.intermediate, Hv]);
      shapes.set(`${p}mlp.up_proj.bias`, [v.intermediate]);
      shapes.set(`${p}mlp.down_proj.weight`, [Hv, v.intermediate]);
      shapes.set(`${p}mlp.down_proj.bias`, [Hv]);
    }
    shapes.set('visual.merger.ln_q.weight', [Hv]);
    shapes.set('visual.merger.mlp.0.weight', [M, M]);
    shapes.set('visual.merger.mlp.0.bias', [M]);
    shapes.set('visual.merger.mlp.2.weight', [H, M]);
    shapes.set('visual.merger.mlp.2.bias', [H]);
  }
  shapes.set('model.embed_tokens.weight', [c.vocabSize, H]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    shapes.set(`${p}input_layernorm.weight`, [H]);
    shapes.set(`${p}self_attn.q_proj.weight`, [c.numHeads * d, H]);
    shapes.set(`${p}self_attn.q_proj.bias`, [c.numHeads * d]);
    shapes.set(`${p}self_attn.k_proj.weight`, [c.numKvHeads * d, H]);
    shapes.set(`${p}self_attn.k_proj.bias`, [c.numKvHeads * d]);
    shapes.set(`${p}self_attn.v_proj.weight`, [c.numKvHeads * d, H]);
    shapes.set(`${p}self_attn.v_proj.bias`, [c.numKvHeads * d]);
    shapes.set(`${p}self_attn.o_proj.weight`, [H, c.numHeads * d]);
    shapes.set(`${p}post_attention_layernorm.weight`, [H]);
    shapes.set(`${p}mlp.gate_proj.weight`, [I, H]);
    shapes.set(`${p}mlp.up_proj.weight`, [I, H]);
    shapes.set(`${p}mlp.down_proj.weight`, [H, I]);
  }
  shapes.set('model.norm.weight', [H]);
  if (!c.tieWordEmbeddings) shapes.set('lm_head.weight', [c.vocabSize, H]);
  return shapes;
}

/** config.json (`qwen2`, or `frankenscope_vl` with a vision tower) for a checkpoint of this model. */
export function hfConfig(config: TrainConfig): Record<string, unknown> {
  const c = resolveConfig(config);
  const out: Record<string, unknown> = {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    hidden_act: 'silu',
    hidden_size: c.hidden,
    intermediate_size: c.intermediate,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    max_position_embeddings: 4096,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    vocab_size: c.vocabSize,
    tie_word_embeddings: c.tieWordEmbeddings,
    use_sliding_window: false,
    torch_dtype: 'float32',
  };
  if (config.eosTokenId !== undefined) out.eos_token_id = config.eosTokenId;
  if (config.bosTokenId !== undefined) out.bos_token_id = config.bosTokenId;
  if (config.vision === undefined) return out;
  const v = resolveVision(config.vision);
  out.architectures = ['FrankenscopeVLForConditionalGeneration'];
  out.model_type = 'frankenscope_vl';
  out.image_token_id = config.imageTokenId;
  if (config.visionStartTokenId !== undefined) out.vision_start_token_id = config.visionStartTokenId;
  if (config.visionEndTokenId !== undefined) out.vision_end_token_id = config.visionEndTokenId;
  out.vision_config = {
    hidden_act: 'silu', depth: v.depth, hidden_size: v.hidden, intermediate_size: v.intermediate, num_heads: v.numHeads,
    patch_size: v.patchSize, temporal_patch_size: v.temporalPatchSize, spatial_merge_size: v.spatialMergeSize,
    in_channels: v.inChannels, out_hidden_size: c.hidden, rms_norm_eps: v.rmsNormEps, image_size: v.imageSize,
  };
  return out;
}
