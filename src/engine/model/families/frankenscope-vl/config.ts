/**
 * `frankenscope_vl`: the project's own small vision-language models
 * (docs/model.md): Qwen2.5-VL tensor names, a fixed image size, a vision
 * tower without windows and the plain 1-D RoPE Qwen2 language model.
 */
import { checkTokenId, isObject, ModelConfigError, Reader, requireActivation, type Json } from '../../config-reader.js';
import type { FixedImageGeometry, ModelConfig, VisionConfig } from '../../config.js';
import { parseQwen2Text } from '../qwen2/config.js';

const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

function parseVision(root: Json, hidden: number): VisionConfig {
  const raw = root.vision_config;
  if (!isObject(raw)) throw new ModelConfigError('vision_config', `config.json: 'vision_config' (an object) is required for model_type "frankenscope_vl"`);
  const r = new Reader([raw], 'vision_config.');
  requireActivation(r, 'silu', 'silu');
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
  const fixed: FixedImageGeometry = {
    imageSize, imageMean, imageStd, gridRows, gridCols, numPatches,
    numVisualTokens: numPatches / (spatialMergeSize * spatialMergeSize),
  };
  return {
    depth, hiddenSize, intermediateSize, numHeads, headDim, patchSize, temporalPatchSize, spatialMergeSize, inChannels, rmsNormEps,
    block: 'rms_swiglu', mergerNorm: 'rms', windowSize: null, fullAttentionBlocks: [],
    fixed, processor: null,
  };
}

export function parseFrankenscopeVlConfig(json: Json): ModelConfig {
  const config = parseQwen2Text(json);
  config.modelType = 'frankenscope_vl';
  const text = json.text_config;
  const top = new Reader([json, ...(isObject(text) ? [text] : [])], '');
  config.imageTokenId = top.int('image_token_id', undefined, 0);
  config.visionStartTokenId = top.optionalId('vision_start_token_id');
  config.visionEndTokenId = top.optionalId('vision_end_token_id');
  checkTokenId('image_token_id', config.imageTokenId, config.vocabSize);
  checkTokenId('vision_start_token_id', config.visionStartTokenId, config.vocabSize);
  checkTokenId('vision_end_token_id', config.visionEndTokenId, config.vocabSize);
  config.vision = parseVision(json, config.hiddenSize);
  return config;
}
