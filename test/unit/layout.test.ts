import { describe, expect, test } from 'vitest';
import { componentOf, countBlocks, defaultLayerCuts, isCharacterized, placeTensor, regionOf, validateLayerCuts } from '../../src/engine/layout.js';

describe('unified layer index (METHOD.md table)', () => {
  test('vision blocks are negative: block i of V gets i - V', () => {
    expect(placeTensor('visual.blocks.0.attn.qkv.weight', 4)).toEqual({ section: 'vision', layerIndex: -4, component: 'attention' });
    expect(placeTensor('visual.blocks.3.mlp.down_proj.weight', 4)).toEqual({ section: 'vision', layerIndex: -1, component: 'mlp' });
    expect(placeTensor('visual.layers.1.norm1.weight', 2).layerIndex).toBe(-1);
  });

  test('projector is 0 under every naming', () => {
    for (const name of ['visual.merger.mlp.0.weight', 'mm_projector.0.weight', 'visual.projector.weight', 'model.visual.merger.ln_q.weight']) {
      expect(placeTensor(name, 4)).toMatchObject({ section: 'projector', layerIndex: 0 });
    }
  });

  test('LLM layer i gets i + 1, under HF prefixes', () => {
    expect(placeTensor('model.layers.0.self_attn.q_proj.weight', 4)).toEqual({ section: 'llm', layerIndex: 1, component: 'attention' });
    expect(placeTensor('layers.11.mlp.gate_proj.weight', 4)).toEqual({ section: 'llm', layerIndex: 12, component: 'mlp' });
    expect(placeTensor('model.language_model.layers.5.input_layernorm.weight', 0)).toEqual({ section: 'llm', layerIndex: 6, component: 'other' });
  });

  test('everything else is other with no index', () => {
    for (const name of ['model.embed_tokens.weight', 'lm_head.weight', 'model.norm.weight', 'visual.patch_embed.proj.weight']) {
      expect(placeTensor(name, 4)).toMatchObject({ section: 'other', layerIndex: null });
    }
  });

  test('components follow the substrings of METHOD.md', () => {
    expect(componentOf('x.self_attn.o_proj.weight')).toBe('attention');
    expect(componentOf('x.attn.proj.weight')).toBe('attention');
    expect(componentOf('x.mlp.up_proj.weight')).toBe('mlp');
    expect(componentOf('visual.merger.mlp.2.weight')).toBe('mlp');
    // 'attention' does not contain the substring 'attn': a norm before the MLP is 'other'
    expect(componentOf('x.post_attention_layernorm.weight')).toBe('other');
  });

  test('countBlocks finds the highest block numbers', () => {
    expect(countBlocks(['visual.blocks.2.x', 'visual.blocks.0.x', 'model.layers.11.y', 'lm_head.weight'])).toEqual({ visionBlocks: 3, llmLayers: 12 });
  });
});

describe('regions', () => {
  test('default cuts are floor(N/3), floor(2N/3)', () => {
    expect(defaultLayerCuts(28)).toEqual([9, 18]);
    expect(defaultLayerCuts(12)).toEqual([4, 8]);
  });

  test('layerCuts [8, 20] over 28 layers: 0-7 | 8-19 | 20-27', () => {
    const cuts = validateLayerCuts([8, 20], 28);
    const region = (j: number) => regionOf({ section: 'llm', layerIndex: j + 1 }, cuts);
    expect([0, 7, 8, 19, 20, 27].map(region)).toEqual(['early', 'early', 'middle', 'middle', 'late', 'late']);
    expect(regionOf({ section: 'vision', layerIndex: -2 }, cuts)).toBeNull();
  });

  test('invalid cuts are refused naming the parameter', () => {
    expect(() => validateLayerCuts([20, 8], 28)).toThrow(/'layerCuts'/);
    expect(() => validateLayerCuts([8], 28)).toThrow(/exactly 2/);
    expect(() => validateLayerCuts([8, 29], 28)).toThrow(/<= 28/);
  });

  test('1-D tensors and norms are not characterized', () => {
    expect(isCharacterized('model.layers.0.self_attn.q_proj.bias', [64])).toBe(false);
    expect(isCharacterized('model.norm.weight', [64])).toBe(false);
    expect(isCharacterized('model.layers.0.mlp.up_proj.weight', [128, 64])).toBe(true);
  });
});
