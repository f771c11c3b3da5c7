/**
 * Merge arithmetic against small examples worked out by hand (the expected
 * numbers are written from the formulas in docs/merging.md, not from the code).
 */
import { describe, expect, it } from 'vitest';
import { combineTaskVectors, dareUniform, lerp, linearCombination, magnitudeTrim, randomDrop, slerp, taskVector } from '../../src/engine/merge/methods.js';
import { evaluateGradient, evaluateParam, gradientPosition, resolveOperation } from '../../src/engine/merge/plan.js';
import { classifyTensor } from '../../src/engine/merge/tensor-names.js';

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);
const list = (a: Float32Array): number[] => [...a];

describe('linear and task arithmetic', () => {
  it('linear: weighted sum, divided by the weight sum when normalizing', () => {
    const a = f32([1, 2]);
    const b = f32([3, 6]);
    // (1*1 + 3*3) / 4 = 2.5, (1*2 + 3*6) / 4 = 5
    expect(list(linearCombination([a, b], [1, 3], true))).toEqual([2.5, 5]);
    expect(list(linearCombination([a, b], [1, 3], false))).toEqual([10, 20]);
    expect(() => linearCombination([a, b], [1, -1], true)).toThrow(/'weights' sum to 0/);
  });

  it('task arithmetic: base + lambda * sum w_i (x_i - base), optionally / sum w_i', () => {
    const base = f32([1, 2, 3]);
    const d1 = taskVector(f32([2, 2, 5]), base); // [1, 0, 2]
    const d2 = taskVector(f32([1, 4, 1]), base); // [0, 2, -2]
    expect(list(d1)).toEqual([1, 0, 2]);
    const plain = combineTaskVectors({ base, deltas: [d1, d2], weights: [0.5, 1], consensus: false, normalize: false, lambda: 1 });
    expect(list(plain)).toEqual([1.5, 4, 2]); // base + [0.5, 2, -1]
    const normalized = combineTaskVectors({ base, deltas: [d1, d2], weights: [0.5, 1], consensus: false, normalize: true, lambda: 2 });
    // mixed / 1.5 = [1/3, 4/3, -2/3], times lambda 2
    expect(list(normalized)).toEqual([1 + 2 / 3, 2 + 8 / 3, 3 - 4 / 3].map(Math.fround));
  });
});

describe('TIES', () => {
  it('trims each task vector to its top-density fraction by magnitude (ties: lower index kept)', () => {
    expect(list(magnitudeTrim(f32([3, -1, 0.5, -2]), 0.75))).toEqual([3, -1, 0, -2]); // k = 3 drops the 0.5
    expect(list(magnitudeTrim(f32([1, -1, 1, 0.5]), 0.5))).toEqual([1, -1, 0, 0]); // k = 2 among three equal magnitudes
    expect(list(magnitudeTrim(f32([1, 2, 3]), 0.3))).toEqual([0, 0, 0]); // k = floor(0.9) = 0
    const d = f32([5, 4]);
    expect(magnitudeTrim(d, 1)).toBe(d);
  });

  it('finds the k-th magnitude on a larger vector like a full sort would', () => {
    const n = 1001;
    const values = Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 503) - 251); // many repeats, both signs
    const k = Math.floor(0.37 * n);
    const kept = magnitudeTrim(values, 0.37);
    const order = [...values.keys()].sort((a, b) => Math.abs(values[b]!) - Math.abs(values[a]!) || a - b).slice(0, k);
    const expected = new Float32Array(n);
    for (const i of order) expected[i] = values[i]!;
    expect(list(kept)).toEqual(list(expected));
  });

  it('elects signs by the sum of weighted trimmed values and takes the disjoint mean', () => {
    const base = f32([1, 1, 1, 1]);
    const a = magnitudeTrim(taskVector(f32([4, 0, 1.5, -1]), base), 0.75); // delta [3, -1, 0.5, -2] -> [3, -1, 0, -2]
    const b = magnitudeTrim(taskVector(f32([0, -1, 3, 2.5]), base), 0.75); // delta [-1, -2, 2, 1.5] -> [0, -2, 2, 1.5]
    expect(list(b)).toEqual([0, -2, 2, 1.5]);
    // weighted (wA = 1, wB = 0.5): A [3, -1, 0, -2], B [0, -1, 1, 0.75]; sums [3, -2, 1, -1.25] -> signs [+, -, +, -]
    // agreeing terms: e0 A (3 / 1), e1 A and B (-2 / 1.5), e2 B (1 / 0.5), e3 A only (-2 / 1; B's +0.75 is dropped)
    const ties = combineTaskVectors({ base, deltas: [a, b], weights: [1, 0.5], consensus: true, normalize: true, lambda: 1 });
    expect(list(ties)).toEqual([4, 1 - 4 / 3, 3, -1].map(Math.fround));
    const unnormalized = combineTaskVectors({ base, deltas: [a, b], weights: [1, 0.5], consensus: true, normalize: false, lambda: 1 });
    expect(list(unnormalized)).toEqual([4, -1, 2, -1]);
  });

  it('a zero sum elects +, and an element with no agreeing term keeps the base', () => {
    const base = f32([10, 10]);
    const ties = combineTaskVectors({ base, deltas: [f32([1, 0]), f32([-1, 0])], weights: [1, 1], consensus: true, normalize: true, lambda: 1 });
    expect(list(ties)).toEqual([11, 10]);
  });
});

describe('DARE', () => {
  it('drops where the draw is >= density and rescales kept entries by 1/density', () => {
    const draws = [0.1, 0.7, 0.3, 0.9];
    const stub = (): ((i: number) => number) => (i) => draws[i]!;
    expect(list(randomDrop(f32([2, 4, -6, 8]), 0.5, true, stub()))).toEqual([4, 0, -12, 0]);
    expect(list(randomDrop(f32([2, 4, -6, 8]), 0.5, false, stub()))).toEqual([2, 0, -6, 0]);
    const d = f32([1, 2]);
    expect(randomDrop(d, 1, true, stub())).toBe(d);
  });

  it('keys indexed draws by (seed, tensor name, model): reproducible, distinct, uniform, and a piece drops what the whole drops there', () => {
    const take = (u: (i: number) => number, n: number): number[] => Array.from({ length: n }, (_, i) => u(i));
    const a = take(dareUniform(0, 'model.layers.0.mlp.up_proj.weight', 0), 1000);
    expect(take(dareUniform(0, 'model.layers.0.mlp.up_proj.weight', 0), 1000)).toEqual(a);
    expect(take(dareUniform(0, 'model.layers.1.mlp.up_proj.weight', 0), 1000)).not.toEqual(a);
    expect(take(dareUniform(0, 'model.layers.0.mlp.up_proj.weight', 1), 1000)).not.toEqual(a);
    expect(take(dareUniform(1, 'model.layers.0.mlp.up_proj.weight', 0), 1000)).not.toEqual(a);
    expect(a.every((u) => u >= 0 && u < 1)).toBe(true);
    // indices past 2^32 are distinct draws, not a wrap-around
    const u = dareUniform(0, 'x', 0);
    expect(take((i) => u(2 ** 32 + i), 100)).not.toEqual(take(u, 100));
    const whole = randomDrop(Float32Array.from({ length: 1000 }, (_, i) => i + 1), 0.5, true, u);
    const piece = randomDrop(Float32Array.from({ length: 300 }, (_, i) => i + 401), 0.5, true, u, 400);
    expect([...piece]).toEqual([...whole.subarray(400, 700)]);
    const n = 100_000;
    const kept = randomDrop(new Float32Array(n).fill(1), 0.3, false, dareUniform(7, 'x', 0)).reduce((s, v) => s + v, 0);
    // binomial(n, 0.3): sd = sqrt(n * 0.21) ~ 145
    expect(Math.abs(kept - 0.3 * n)).toBeLessThan(5 * Math.sqrt(n * 0.21));
  });
});

describe('SLERP', () => {
  it('orthogonal unit vectors at t = 0.5 give their normalized sum', () => {
    const out = slerp(f32([1, 0, 0]), f32([0, 1, 0]), 0.5, 0.9995);
    expect(list(out)).toEqual([Math.SQRT1_2, Math.SQRT1_2, 0].map(Math.fround));
  });

  it('keeps the magnitudes along the arc: theta = 60 degrees, t = 0.5', () => {
    // a = (1, 0), b = (1/2, sqrt(3)/2): midpoint on the unit circle is (cos 30, sin 30)
    const out = slerp(f32([1, 0]), f32([0.5, Math.sqrt(3) / 2]), 0.5, 0.9995);
    expect(out[0]).toBeCloseTo(Math.sqrt(3) / 2, 6);
    expect(out[1]).toBeCloseTo(0.5, 6);
  });

  it('gives the endpoints exactly at t = 0 and t = 1', () => {
    const a = f32([0.3, -1.25, 2, 0.1]);
    const b = f32([-0.7, 0.5, 1.5, 3]);
    expect(list(slerp(a, b, 0, 0.9995))).toEqual(list(a));
    expect(list(slerp(a, b, 1, 0.9995))).toEqual(list(b));
  });

  it('falls back to linear interpolation for nearly parallel vectors or a zero norm', () => {
    // cos = 1 / sqrt(1 + 0.02^2) ~ 0.9998 > 0.9995: lerp, whose midpoint is (1, 0.01); slerp's would be ~(1.00005, 0.0100005)
    const b = f32([1, 0.02, 0, 0]);
    expect(list(slerp(f32([1, 0, 0, 0]), b, 0.5, 0.9995))).toEqual([1, Math.fround(0.5 * b[1]!), 0, 0]);
    // the same pair with a stricter threshold is interpolated on the arc
    expect(slerp(f32([1, 0, 0, 0]), b, 0.5, 1 - 1e-6)[0]).toBeGreaterThan(1.00004);
    expect(list(slerp(f32([0, 0]), f32([2, 4]), 0.25, 0.9995))).toEqual([0.5, 1]);
    // antiparallel counts too (|cos| = 1)
    expect(list(slerp(f32([1, 2]), f32([-1, -2]), 0.5, 0.9995))).toEqual([0, 0]);
  });

  it('lerp gives the endpoints at 0 and 1', () => {
    const a = f32([1.5, -2.25]);
    const b = f32([7, 3.125]);
    expect(list(lerp(a, b, 0))).toEqual(list(a));
    expect(list(lerp(a, b, 1))).toEqual(list(b));
    expect(list(lerp(a, b, 0.5))).toEqual([4.25, 0.4375]);
  });
});

describe('parameters by layer and component', () => {
  it('interpolates a gradient between evenly spaced points (mergekit)', () => {
    expect(evaluateGradient([0, 1, 0], 0)).toBe(0);
    expect(evaluateGradient([0, 1, 0], 0.25)).toBe(0.5);
    expect(evaluateGradient([0, 1, 0], 0.5)).toBe(1);
    expect(evaluateGradient([0, 1, 0], 1)).toBe(0);
    expect(evaluateGradient([0.2, 0.6], 0.5)).toBeCloseTo(0.4, 15);
    expect(evaluateGradient(0.3, 0.9)).toBe(0.3);
  });

  it('places layers along the operation: (l - from) / (count - 1); outside tensors at 0 (before) or 1 (after)', () => {
    const op = resolveOperation({ op: 'interpolate', donor: 'rl', alpha: [0, 1], layers: { from: 2, to: 7 } }, { base: 'in', donors: ['rl'], operations: [] }, 12);
    const at = (name: string): number => gradientPosition(op, classifyTensor(name));
    expect([2, 3, 4, 5, 6].map((l) => at(`model.layers.${l}.mlp.up_proj.weight`))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(at('visual.blocks.0.norm1.weight')).toBe(0);
    expect(at('model.embed_tokens.weight')).toBe(0);
    expect(at('lm_head.weight')).toBe(1);
    const one = resolveOperation({ op: 'splice', model: 'rl', layers: { from: 3, to: 4 } }, { base: 'in', donors: ['rl'], operations: [] }, 12);
    expect(gradientPosition(one, classifyTensor('model.layers.3.mlp.up_proj.weight'))).toBe(1);
  });

  it('picks the first matching branch by component or name substring', () => {
    const p = [{ component: 'attention' as const, value: 0.1 }, { nameContains: 'down_proj', value: [0, 1] }, { value: 0.9 }];
    const at = (name: string, t = 0.5): number => evaluateParam(p, name, classifyTensor(name), t);
    expect(at('model.layers.1.self_attn.q_proj.weight')).toBe(0.1);
    expect(at('model.layers.1.input_layernorm.weight')).toBe(0.1); // the norm in front of attention belongs to it
    expect(at('model.layers.1.mlp.down_proj.weight')).toBe(0.5);
    expect(at('model.layers.1.mlp.up_proj.weight')).toBe(0.9);
    expect(at('model.layers.1.post_attention_layernorm.weight')).toBe(0.9);
  });
});
