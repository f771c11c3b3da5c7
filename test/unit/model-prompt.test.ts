import { describe, expect, test } from 'vitest';
import { parseModelConfig, type ModelConfig } from '../../src/engine/model/config.js';
import { buildPrompt, PromptError } from '../../src/engine/model/prompt.js';

// One id per character (its code point) makes expected layouts readable.
const tokenizer = { encode: (text: string): number[] => [...text].map((ch) => ch.codePointAt(0)!) };

const vl = (extra: Record<string, unknown> = {}): ModelConfig =>
  parseModelConfig({
    model_type: 'frankenscope_vl', hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 1000,
    image_token_id: 900, vision_start_token_id: 901, vision_end_token_id: 902,
    vision_config: { depth: 1, hidden_size: 8, intermediate_size: 8, num_heads: 2, patch_size: 2, image_size: [8, 4] },
    ...extra,
  });

describe('buildPrompt', () => {
  const config = vl();
  test('the config gives 2 visual tokens (8x4 image, patch 2, merge 2)', () => {
    expect(config.vision!.fixed!.numVisualTokens).toBe(2);
  });

  test('marker in the middle: text, start, n_v image tokens, end, text', () => {
    const { ids, visualSpan } = buildPrompt('ab<image>cd', { tokenizer, config, hasImage: true });
    expect(ids).toEqual([97, 98, 901, 900, 900, 902, 99, 100]);
    expect(visualSpan).toEqual({ start: 3, length: 2 });
  });

  test('image without a marker goes first', () => {
    expect(buildPrompt('hi', { tokenizer, config, hasImage: true })).toMatchObject({ ids: [901, 900, 900, 902, 104, 105], visualSpan: { start: 1, length: 2 } });
  });

  test('text pieces are tokenized separately', () => {
    const calls: string[] = [];
    const spy = { encode: (t: string): number[] => (calls.push(t), tokenizer.encode(t)) };
    buildPrompt('x <image> y', { tokenizer: spy, config, hasImage: true });
    expect(calls).toEqual(['x ', ' y']);
  });

  test('without start/end ids only the image tokens are placed', () => {
    const bare = vl({ vision_start_token_id: null, vision_end_token_id: undefined });
    expect(buildPrompt('<image>q', { tokenizer, config: bare, hasImage: true })).toMatchObject({ ids: [900, 900, 113], visualSpan: { start: 0, length: 2 } });
  });

  test('bos is prepended only with add_bos_token', () => {
    const withBos = vl({ bos_token_id: 7, add_bos_token: true });
    expect(buildPrompt('a<image>', { tokenizer, config: withBos, hasImage: true })).toMatchObject({ ids: [7, 97, 901, 900, 900, 902], visualSpan: { start: 3, length: 2 } });
    expect(buildPrompt('a', { tokenizer, config: vl({ bos_token_id: 7 }), hasImage: false }).ids).toEqual([97]);
  });

  test('one marker per image, each image with its own token count', () => {
    const { ids, visualSpans } = buildPrompt('a<image>b<image>', { tokenizer, config, imageTokenCounts: [1, 3] });
    expect(ids).toEqual([97, 901, 900, 902, 98, 901, 900, 900, 900, 902]);
    expect(visualSpans).toEqual([{ start: 2, length: 1 }, { start: 6, length: 3 }]);
  });

  test('text-only prompt', () => {
    expect(buildPrompt('abc', { tokenizer, config, hasImage: false })).toEqual({ ids: [97, 98, 99], visualSpan: null, visualSpans: [] });
  });

  test('errors: marker without image, two markers, image for a text-only model, placeholder token in text', () => {
    expect(() => buildPrompt('a<image>b', { tokenizer, config, hasImage: false })).toThrow(PromptError);
    expect(() => buildPrompt('<image><image>', { tokenizer, config, hasImage: true })).toThrow(/2 '<image>' markers but 1 image was given/);
    expect(() => buildPrompt('a<image>b', { tokenizer, config, imageTokenCounts: [2, 2] })).toThrow(/1 '<image>' marker but 2 images were given/);
    const text = parseModelConfig({ model_type: 'qwen2', hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 1000 });
    expect(() => buildPrompt('a', { tokenizer, config: text, hasImage: true })).toThrow(/no vision tower/);
    expect(() => buildPrompt(`a${String.fromCodePoint(900)}`, { tokenizer, config, hasImage: true })).toThrow(/placeholder/);
  });
});
