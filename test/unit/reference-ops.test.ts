import { describe, expect, test } from 'vitest';
import { parseModelConfig } from '../../src/engine/model/config.js';
import { textAngles } from '../reference/forward.js';
import { erf, gelu, maskedSoftmax, rope, rotateHalf } from '../reference/ops.js';
import { patchOrder, visionAngles } from '../reference/vision.js';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0);
const vec = (n: number, seed: number): Float64Array => Float64Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) + 0.3);

describe('reference building blocks', () => {
  test('erf and GELU match tabulated values', () => {
    expect(erf(0)).toBe(0);
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(2)).toBeCloseTo(0.9953222650189527, 14);
    expect(erf(3.5)).toBeCloseTo(0.9999992569016276, 14);
    expect(erf(-1)).toBeCloseTo(-0.8427007929497149, 14);
    // GELU(x) = x Φ(x); Φ(1) = 0.8413447460685429
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(gelu(-1)).toBeCloseTo(-0.15865525393145707, 14);
  });

  test('rotate_half twice negates', () => {
    const x = vec(8, 1);
    rotateHalf(rotateHalf(x)).forEach((v, i) => expect(v).toBe(-x[i]!));
    expect(Array.from(rotateHalf([1, 2, 3, 4]))).toEqual([-3, -4, 1, 2]);
  });

  test('RoPE preserves norms, is the identity at position 0, and inner products depend only on the offset', () => {
    const config = parseModelConfig({ model_type: 'qwen2', hidden_size: 64, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 4, vocab_size: 8, rope_theta: 10000 });
    const q = vec(16, 2);
    const k = vec(16, 3);
    for (const pos of [0, 1, 7, 1000]) expect(Math.hypot(...rope(q, textAngles(config, pos)))).toBeCloseTo(Math.hypot(...q), 12);
    expect(Array.from(rope(q, textAngles(config, 0)))).toEqual(Array.from(q));
    const at = (m: number, n: number): number => dot(rope(q, textAngles(config, m)), rope(k, textAngles(config, n)));
    expect(at(5, 2)).toBeCloseTo(at(103, 100), 10);
    expect(at(5, 2)).not.toBeCloseTo(at(5, 3), 3);
  });

  test('text RoPE angles: inv[j] = θ^(−2j/d), repeated over both halves', () => {
    const config = parseModelConfig({ model_type: 'qwen2', hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 8, rope_theta: 100 });
    // d = 4: inv = [100^0, 100^(−1/2)] = [1, 0.1]
    const a = textAngles(config, 3);
    [3, 0.3, 3, 0.3].forEach((want, i) => expect(a[i]).toBeCloseTo(want, 14));
  });

  test('vision angles: [r·inv, c·inv, r·inv, c·inv] with inv[j] = 10000^(−j/(dv/4))', () => {
    const v = parseModelConfig({
      model_type: 'frankenscope_vl', hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 8, image_token_id: 1,
      vision_config: { depth: 1, hidden_size: 16, intermediate_size: 8, num_heads: 2, patch_size: 2 },
    }).vision!;
    expect(v.headDim).toBe(8);
    expect(Array.from(visionAngles(v, 3, 5))).toEqual([3, 3 / 100, 5, 5 / 100, 3, 3 / 100, 5, 5 / 100]);
  });

  test('patch order lists each 2x2 merge block consecutively, blocks in row-major order', () => {
    const v = parseModelConfig({
      model_type: 'frankenscope_vl', hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 8, image_token_id: 1,
      vision_config: { depth: 1, hidden_size: 8, intermediate_size: 8, num_heads: 2, patch_size: 1, image_size: [4, 4] },
    }).vision!;
    expect(patchOrder(v).slice(0, 8)).toEqual([[0, 0], [0, 1], [1, 0], [1, 1], [0, 2], [0, 3], [1, 2], [1, 3]]);
    expect(patchOrder(v)[8]).toEqual([2, 0]);
  });

  test('masked softmax: masked entries are 0, the rest sum to 1, an all-masked row is 0', () => {
    const p = maskedSoftmax([1, 2, 3, 1000], [true, true, true, false]);
    expect(p[3]).toBe(0);
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 14);
    expect(p[2]! / p[1]!).toBeCloseTo(Math.E, 12);
    expect(Array.from(maskedSoftmax([1, 2], [false, false]))).toEqual([0, 0]);
  });
});
