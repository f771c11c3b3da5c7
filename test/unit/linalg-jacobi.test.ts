import { describe, expect, it } from 'vitest';
import { jacobiSingularValues } from '../../src/engine/linalg/jacobi-svd.js';
import { gaussian, planted } from './linalg-fixtures.js';

describe('jacobiSingularValues (reference method)', () => {
  it('returns |diagonal| of a diagonal matrix, sorted descending', () => {
    const a = [3, 0, 0, 0, -7, 0, 0, 0, 0.5];
    expect(Array.from(jacobiSingularValues(a, 3, 3))).toEqual([7, 3, 0.5]);
  });

  it('matches the closed form of a 2x2 matrix', () => {
    // [[a, b], [0, d]]: s1 s2 = |a d|, s1^2 + s2^2 = a^2 + b^2 + d^2.
    const [a, b, d] = [2, 3, 1];
    const sum = a * a + b * b + d * d;
    const prod = Math.abs(a * d);
    const s1 = Math.sqrt((sum + Math.sqrt(sum * sum - 4 * prod * prod)) / 2);
    const s2 = prod / s1;
    const s = jacobiSingularValues([a, b, 0, d], 2, 2);
    expect(s[0]).toBeCloseTo(s1, 13);
    expect(s[1]).toBeCloseTo(s2, 13);
  });

  it('gives ||x|| ||y|| and zeros for a rank-one outer product', () => {
    const x = [1, 2, 3, 4];
    const y = [2, -1, 0.5];
    const a = x.flatMap((xi) => y.map((yj) => xi * yj));
    const s = jacobiSingularValues(a, 4, 3);
    expect(s[0]).toBeCloseTo(Math.sqrt(30) * Math.sqrt(5.25), 12);
    expect(s[1]).toBeLessThan(1e-14);
    expect(s[2]).toBeLessThan(1e-14);
  });

  it('recovers planted values of tall and wide matrices within the float32 rounding bound', () => {
    const s = [9, 4, 2.5, 1, 0.1];
    for (const [rows, cols] of [
      [30, 12],
      [12, 30],
    ]) {
      const p = planted(rows, cols, s, 11);
      const got = jacobiSingularValues(p.a, rows, cols);
      expect(got.length).toBe(12);
      s.forEach((si, i) => expect(Math.abs(got[i] - si)).toBeLessThanOrEqual(p.roundingNorm + 1e-12));
      for (let i = s.length; i < 12; i++) expect(got[i]).toBeLessThanOrEqual(p.roundingNorm + 1e-12);
    }
  });

  it('agrees between A and A^T', () => {
    const g = gaussian(5);
    const rows = 9;
    const cols = 5;
    const a = Array.from({ length: rows * cols }, g);
    const at = new Array<number>(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) at[j * rows + i] = a[i * cols + j];
    const s1 = jacobiSingularValues(a, rows, cols);
    const s2 = jacobiSingularValues(at, cols, rows);
    s1.forEach((v, i) => expect(s2[i]).toBeCloseTo(v, 12));
  });

  it('rejects a length that does not match rows * cols', () => {
    expect(() => jacobiSingularValues([1, 2, 3], 2, 2)).toThrow(RangeError);
    expect(() => jacobiSingularValues([1, 2, 3], 2, 2)).toThrow(/'a'/);
  });
});
