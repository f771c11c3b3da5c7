import { describe, expect, test } from 'vitest';
import { ModelConfigError, parseModelConfig } from '../../src/engine/model/config.js';

// The language keys of a (shrunk) hub Qwen2.5-VL config.json: flat, rope_scaling of type "mrope"
const hub25 = () => ({
  model_type: 'qwen2_5_vl', architectures: ['Qwen2_5_VLForConditionalGeneration'],
  hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
  vocab_size: 151936, rms_norm_eps: 1e-6, rope_theta: 1000000.0, tie_word_embeddings: true, eos_token_id: 151645, bos_token_id: 151643,
  use_sliding_window: false, sliding_window: 32768, max_window_layers: 70, hidden_act: 'silu',
  rope_scaling: { type: 'mrope', mrope_section: [2, 3, 3] },
  image_token_id: 151655, video_token_id: 151656, vision_start_token_id: 151652, vision_end_token_id: 151653,
  vision_config: {
    depth: 4, hidden_act: 'silu', hidden_size: 32, intermediate_size: 48, num_heads: 2, in_chans: 3, out_hidden_size: 64,
    patch_size: 14, spatial_merge_size: 2, spatial_patch_size: 14, window_size: 112, fullatt_block_indexes: [1, 3], tokens_per_second: 2, temporal_patch_size: 2,
  },
});

// A Qwen2-VL hub config: vision blocks embed_dim wide, vision hidden_size is the projector output
const hub2 = () => ({
  model_type: 'qwen2_vl',
  hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 151936,
  rope_scaling: { type: 'mrope', mrope_section: [2, 3, 3] }, eos_token_id: 151645,
  vision_config: { depth: 2, embed_dim: 32, mlp_ratio: 4, num_heads: 2, in_chans: 3, hidden_size: 64, patch_size: 14, spatial_merge_size: 2, temporal_patch_size: 2 },
});

describe('Qwen-VL config.json', () => {
  test('hub Qwen2.5-VL: M-RoPE section, windows, token ids, tied head, vision norms at 1e-6', () => {
    const c = parseModelConfig(hub25());
    expect(c).toMatchObject({
      modelType: 'qwen2_5_vl', headDim: 16, ropeTheta: 1e6, mropeSection: [2, 3, 3], tieWordEmbeddings: true, eosTokenIds: [151645],
      imageTokenId: 151655, visionStartTokenId: 151652, visionEndTokenId: 151653, rmsNormEps: 1e-6,
    });
    expect(c.vision).toMatchObject({ hiddenSize: 32, intermediateSize: 48, numHeads: 2, headDim: 16, patchSize: 14, block: 'rms_swiglu', mergerNorm: 'rms', windowSize: 112, fullAttentionBlocks: [1, 3], rmsNormEps: 1e-6, fixed: null });
  });

  test('the re-saved spelling: nested text_config, rope_scaling type "default" plus mrope_section; text_config alone holds the language keys', () => {
    const { hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads, vocab_size, vision_config } = hub25();
    const c = parseModelConfig({
      model_type: 'qwen2_5_vl', tie_word_embeddings: true, hidden_size: 999, vision_config,
      text_config: { hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads, vocab_size, rope_scaling: { type: 'default', mrope_section: [2, 3, 3] }, eos_token_id: 151645 },
    });
    expect(c).toMatchObject({ hiddenSize: 64, mropeSection: [2, 3, 3], tieWordEmbeddings: true, ropeTheta: 1e6, rmsNormEps: 1e-5, eosTokenIds: [151645] });
  });

  test('the head size is hidden_size / num_attention_heads whatever head_dim says, as the Qwen-VL attention computes it', () => {
    expect(parseModelConfig({ ...hub25(), head_dim: 8 }).headDim).toBe(16);
  });

  test('rope_parameters with its own rope_theta', () => {
    const { rope_scaling: _, rope_theta: __, ...rest } = hub25();
    const c = parseModelConfig({ ...rest, rope_parameters: { rope_type: 'default', mrope_section: [4, 2, 2], rope_theta: 5000 } });
    expect(c).toMatchObject({ mropeSection: [4, 2, 2], ropeTheta: 5000 });
  });

  test('Qwen2-VL: LayerNorm + QuickGELU blocks embed_dim wide with an embed_dim x mlp_ratio MLP', () => {
    const c = parseModelConfig(hub2());
    expect(c.vision).toMatchObject({ hiddenSize: 32, intermediateSize: 128, headDim: 16, block: 'layernorm_quickgelu', mergerNorm: 'layernorm', windowSize: null, fixed: null });
    expect(c).toMatchObject({ rmsNormEps: 1e-5, ropeTheta: 1e6, tieWordEmbeddings: false });
  });

  test('generation_config.json eos ids join config.json\'s', () => {
    const c = parseModelConfig(hub25(), { generationConfig: { eos_token_id: [151645, 151643], do_sample: true } });
    expect(c.eosTokenIds).toEqual([151645, 151643]);
  });

  const refusals: [string, () => unknown, string, RegExp][] = [
    ['sliding-window attention', () => ({ ...hub25(), use_sliding_window: true }), 'use_sliding_window', /sliding/],
    ['yarn scaling', () => ({ ...hub25(), rope_scaling: { type: 'yarn', factor: 4, mrope_section: [2, 3, 3] } }), 'rope_scaling.rope_type', /"yarn"/],
    ['a scaling factor on M-RoPE', () => ({ ...hub25(), rope_scaling: { type: 'mrope', mrope_section: [2, 3, 3], factor: 2 } }), 'rope_scaling.factor', /factor/],
    ['no mrope_section', () => ({ ...hub25(), rope_scaling: { type: 'mrope' } }), 'rope_scaling.mrope_section', /three positive integers/],
    ['a section that misses frequencies', () => ({ ...hub25(), rope_scaling: { type: 'mrope', mrope_section: [2, 2, 2] } }), 'rope_scaling.mrope_section', /head_dim \/ 2/],
    ['no rope settings', () => ({ ...hub25(), rope_scaling: undefined }), 'rope_scaling', /required/],
    ['no vision config', () => ({ ...hub25(), vision_config: undefined }), 'vision_config', /required/],
    ['an unknown vision activation', () => ({ ...hub25(), vision_config: { ...hub25().vision_config, hidden_act: 'gelu' } }), 'vision_config.hidden_act', /"gelu"/],
    ['a projector that does not reach the language width', () => ({ ...hub25(), vision_config: { ...hub25().vision_config, out_hidden_size: 32 } }), 'vision_config.out_hidden_size', /must equal/],
    ['Qwen2-VL with a SiLU vision tower', () => ({ ...hub2(), vision_config: { ...hub2().vision_config, hidden_act: 'silu' } }), 'vision_config.hidden_act', /quick_gelu/],
    ['image token outside the vocabulary', () => ({ ...hub25(), vocab_size: 1000, eos_token_id: 2, bos_token_id: 1 }), 'image_token_id', /vocab_size/],
  ];
  test.each(refusals)('refuses %s, naming the key', (_name, make, key, message) => {
    let error: unknown;
    try {
      parseModelConfig(make());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelConfigError);
    expect((error as ModelConfigError).key).toBe(key);
    expect((error as Error).message).toMatch(message);
  });
});
