import { describe, expect, test } from 'vitest';
import { cosine, effectiveRank, subspaceOverlap, sumOfSquares, updateStats } from '../../src/engine/characterize/metrics.js';

describe('update metrics from a spectrum', () => {
  test('a flat spectrum of r equal values has effective rank exactly r', () => {
    for (const r of [1, 3, 17]) expect(effectiveRank(new Float64Array(r).fill(2.5))).toBeCloseTo(r, 12);
  });

  test('values at or below 1e-12 do not count; a zero update has effective rank 0', () => {
    expect(effectiveRank(new Float64Array([1, 1, 1e-13, 0]))).toBeCloseTo(2, 12);
    expect(effectiveRank(new Float64Array([0, 0]))).toBe(0);
  });

  test('spectrum [4, 3, 2, 1] with its fro norm gives the closed forms', () => {
    const s = new Float64Array([4, 3, 2, 1]);
    const fro = Math.sqrt(30);
    const u = updateStats(s, fro, 10, 3);
    expect(u.spectralNorm).toBe(4);
    expect(u.nuclearNorm).toBe(10);
    expect(u.stableRank).toBeCloseTo(30 / 16, 10);
    expect(u.relativeNorm).toBeCloseTo(fro / (10 + 1e-8), 14); // METHOD.md's epsilon
    const h = -[0.4, 0.3, 0.2, 0.1].reduce((a, p) => a + p * Math.log(p), 0);
    expect(u.effectiveRank).toBeCloseTo(Math.exp(h), 12);
    expect(u.conditionNumber).toBeCloseTo(4, 10);
    expect(u.logVolume).toBeCloseTo(Math.log(24), 10); // top 3: ln 4 + ln 3 + ln 2
    expect(u.singularValues).toEqual([4, 3, 2]);
  });

  test('a rank-deficient update has a huge condition number (s_min = 0)', () => {
    const u = updateStats(new Float64Array([2, 1, 0]), Math.sqrt(5), 1, 50);
    expect(u.conditionNumber).toBeCloseTo(2e12, -6);
    expect(u.singularValues).toHaveLength(3);
  });
});

describe('cross-phase metrics', () => {
  test('cosine of a vector with itself, its negative and an orthogonal one', () => {
    const a = new Float32Array([1, 2, 3, 0]);
    const n = Math.sqrt(sumOfSquares(a));
    expect(cosine(a, a, n, n)).toBeCloseTo(1, 12);
    const neg = a.map((x) => -x);
    expect(cosine(a, neg, n, n)).toBeCloseTo(-1, 12);
    const orth = new Float32Array([0, 0, 0, 5]);
    expect(cosine(a, orth, n, 5)).toBe(0);
    expect(cosine(a, new Float32Array(4), n, 0)).toBeNull();
  });

  test('subspace overlap: same subspace 1, orthogonal 0, a line at angle t gives cos^2 t', () => {
    const rows = 3;
    const e1e2 = new Float64Array([1, 0, 0, 0, 1, 0]);
    const e2e1 = new Float64Array([0, 1, 0, 1, 0, 0]);
    expect(subspaceOverlap(e1e2, 2, e2e1, 2, rows)).toBeCloseTo(1, 12);
    const e3 = new Float64Array([0, 0, 1]);
    expect(subspaceOverlap(e1e2, 2, e3, 1, rows)).toBe(0);
    const t = 0.3;
    const line = new Float64Array([Math.cos(t), 0, Math.sin(t)]);
    expect(subspaceOverlap(new Float64Array([1, 0, 0]), 1, line, 1, rows)).toBeCloseTo(Math.cos(t) ** 2, 12);
    // a line inside a plane: fully contained, overlap 1 (normalised by the smaller subspace)
    expect(subspaceOverlap(e1e2, 2, new Float64Array([Math.SQRT1_2, Math.SQRT1_2, 0]), 1, rows)).toBeCloseTo(1, 12);
    expect(subspaceOverlap(e1e2, 2, new Float64Array(0), 0, rows)).toBeNull();
  });
});
