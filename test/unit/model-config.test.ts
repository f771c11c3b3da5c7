import { describe, expect, test } from 'vitest';
import { ModelConfigError, parseModelConfig } from '../../src/engine/model/config.js';

const qwen2 = (): Record<string, unknown> => ({
  model_type: 'qwen2',
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 300,
  eos_token_id: 290,
});

const vl = (): Record<string, unknown> => ({
  ...qwen2(),
  model_type: 'frankenscope_vl',
  image_token_id: 299,
  vision_config: { depth: 2, hidden_size: 32, intermediate_size: 64, num_heads: 2, patch_size: 4 },
});

function errorOf(json: unknown): ModelConfigError {
  try {
    parseModelConfig(json);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelConfigError);
    return e as ModelConfigError;
  }
  throw new Error('parseModelConfig accepted the config');
}

describe('parseModelConfig', () => {
  test('fills the documented defaults for qwen2', () => {
    const c = parseModelConfig({ ...qwen2(), num_key_value_heads: undefined });
    expect(c).toMatchObject({
      modelType: 'qwen2', hiddenSize: 64, numHeads: 4, numKvHeads: 4, headDim: 16, rmsNormEps: 1e-6, ropeTheta: 10000,
      tieWordEmbeddings: false, eosTokenIds: [290], bosTokenId: null, addBosToken: false, imageTokenId: null,
    });
    expect(c.vision).toBeUndefined();
  });

  test('vision defaults: tp 2, merge 2, 3 channels, image 4·p·m square, CLIP statistics, derived grid', () => {
    const v = parseModelConfig(vl()).vision!;
    expect(v).toMatchObject({ temporalPatchSize: 2, spatialMergeSize: 2, inChannels: 3, headDim: 16, rmsNormEps: 1e-6, block: 'rms_swiglu', windowSize: null });
    expect(v.fixed).toMatchObject({ imageSize: [32, 32], gridRows: 8, gridCols: 8, numPatches: 64, numVisualTokens: 16 });
    expect(v.fixed!.imageMean).toEqual([0.48145466, 0.4578275, 0.40821073]);
    expect(v.fixed!.imageStd).toEqual([0.26862954, 0.26130258, 0.27577711]);
  });

  test('text_config wins over top-level keys; eos list, head_dim, in_chans, rectangular image', () => {
    const c = parseModelConfig({
      ...vl(),
      hidden_size: 999,
      text_config: { hidden_size: 64, num_attention_heads: 2, head_dim: 8, eos_token_id: [3, 4, 3] },
      vision_config: { depth: 1, hidden_size: 32, intermediate_size: 64, num_heads: 4, patch_size: 2, in_chans: 3, image_size: [8, 12], spatial_merge_size: 2 },
    });
    expect(c.hiddenSize).toBe(64);
    expect(c.numHeads).toBe(2);
    expect(c.numKvHeads).toBe(2);
    expect(c.headDim).toBe(8);
    expect(c.eosTokenIds).toEqual([3, 4]);
    expect(c.vision).toMatchObject({ headDim: 8 });
    expect(c.vision!.fixed).toMatchObject({ gridRows: 4, gridCols: 6, numPatches: 24, numVisualTokens: 6 });
  });

  test('accepts default rope_scaling spellings and null', () => {
    for (const rs of [null, { type: 'default' }, { rope_type: 'default' }]) expect(parseModelConfig({ ...qwen2(), rope_scaling: rs }).ropeTheta).toBe(10000);
  });

  test('add_bos_token puts bos in the config', () => {
    expect(parseModelConfig({ ...qwen2(), bos_token_id: 5, add_bos_token: true })).toMatchObject({ bosTokenId: 5, addBosToken: true });
  });

  const cases: [string, () => unknown, string, RegExp][] = [
    ['not an object', () => [1], '(root)', /JSON object/],
    ['unknown model type', () => ({ ...qwen2(), model_type: 'llama' }), 'model_type', /"llama"/],
    ['M-RoPE scaling', () => ({ ...qwen2(), rope_scaling: { type: 'mrope', mrope_section: [2, 3, 3] } }), 'rope_scaling', /mrope/],
    ['linear scaling', () => ({ ...qwen2(), rope_scaling: { rope_type: 'linear', factor: 2 } }), 'rope_scaling', /linear/],
    ['default type with extra keys', () => ({ ...qwen2(), rope_scaling: { rope_type: 'default', mrope_section: [1] } }), 'rope_scaling', /mrope_section/],
    ['missing hidden_size', () => ({ ...qwen2(), hidden_size: undefined }), 'hidden_size', /required/],
    ['fractional layers', () => ({ ...qwen2(), num_hidden_layers: 2.5 }), 'num_hidden_layers', /integer/],
    ['heads not a multiple of kv heads', () => ({ ...qwen2(), num_key_value_heads: 3 }), 'num_key_value_heads', /multiple/],
    ['width not split by heads', () => ({ ...qwen2(), num_attention_heads: 5, num_key_value_heads: 5 }), 'num_attention_heads', /head_dim/],
    ['odd head size', () => ({ ...qwen2(), head_dim: 7 }), 'head_dim', /even/],
    ['eos outside vocabulary', () => ({ ...qwen2(), eos_token_id: 300 }), 'eos_token_id', /vocab_size/],
    ['eos of the wrong type', () => ({ ...qwen2(), eos_token_id: 'x' }), 'eos_token_id', /token id/],
    ['add_bos_token without bos', () => ({ ...qwen2(), add_bos_token: true }), 'bos_token_id', /add_bos_token/],
    ['non-positive eps', () => ({ ...qwen2(), rms_norm_eps: 0 }), 'rms_norm_eps', /positive/],
    ['tie flag not boolean', () => ({ ...qwen2(), tie_word_embeddings: 'yes' }), 'tie_word_embeddings', /true or false/],
    ['activation other than silu', () => ({ ...qwen2(), hidden_act: 'gelu' }), 'hidden_act', /silu/],
    ['sliding window', () => ({ ...qwen2(), use_sliding_window: true }), 'use_sliding_window', /sliding/],
    ['VL without image_token_id', () => ({ ...vl(), image_token_id: undefined }), 'image_token_id', /required/],
    ['VL without vision_config', () => ({ ...vl(), vision_config: undefined }), 'vision_config', /required/],
    ['vision head size not divisible by 4', () => ({ ...vl(), vision_config: { depth: 1, hidden_size: 36, intermediate_size: 8, num_heads: 6, patch_size: 2 } }), 'vision_config.num_heads', /divisible by 4/],
    ['vision width not split by heads', () => ({ ...vl(), vision_config: { depth: 1, hidden_size: 32, intermediate_size: 8, num_heads: 3, patch_size: 2 } }), 'vision_config.num_heads', /multiple/],
    ['out_hidden_size differs from hidden_size', () => ({ ...vl(), vision_config: { ...(vl().vision_config as object), out_hidden_size: 32 } }), 'vision_config.out_hidden_size', /must equal/],
    ['image size not divisible by p·m', () => ({ ...vl(), vision_config: { ...(vl().vision_config as object), image_size: [16, 20] } }), 'vision_config.image_size', /divisible by .* 8/],
    ['image mean of the wrong length', () => ({ ...vl(), vision_config: { ...(vl().vision_config as object), image_mean: [0.5] } }), 'vision_config.image_mean', /3 finite numbers/],
    ['zero image std', () => ({ ...vl(), vision_config: { ...(vl().vision_config as object), image_std: [1, 0, 1] } }), 'vision_config.image_std', /positive/],
    ['image token outside vocabulary', () => ({ ...vl(), image_token_id: 300 }), 'image_token_id', /vocab_size/],
  ];
  test.each(cases)('refuses %s', (_label, make, key, message) => {
    const e = errorOf(make());
    expect(e.key).toBe(key);
    expect(e.message).toMatch(message);
  });
});
