import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jacobiSingularValues } from '../../src/engine/linalg/jacobi-svd.js';
import { SpectralSolver, type Spectrum } from '../../src/engine/linalg/spectral-solver.js';
import { column, dot, gaussianMatrix, planted, powerIterationTop } from './linalg-fixtures.js';

function expectOrthonormal(spec: Spectrum, rows: number): void {
  for (let j = 0; j < spec.leftCount; j++) {
    for (let q = 0; q <= j; q++) {
      const g = dot(column(spec.left!, rows, j), column(spec.left!, rows, q));
      expect(Math.abs(g - (q === j ? 1 : 0))).toBeLessThan(1e-10);
    }
  }
}

describe('SpectralSolver', () => {
  let solver: SpectralSolver;
  beforeAll(async () => {
    solver = await SpectralSolver.create({ threads: 1 });
  });
  afterAll(async () => {
    await solver.release();
  });

  it('matches one-sided Jacobi on random 40x70 and 70x40 matrices', async () => {
    for (const [rows, cols] of [
      [40, 70],
      [70, 40],
    ]) {
      const a = gaussianMatrix(rows, cols, rows * 1000 + cols);
      const ref = jacobiSingularValues(a, rows, cols);
      const { values } = await solver.spectrum(a, rows, cols);
      expect(values.length).toBe(40);
      ref.forEach((r, i) => expect(Math.abs(values[i] - r)).toBeLessThan(1e-9 * r));
    }
  });

  it('recovers planted values of tall and wide matrices (one-stage route; linalg-routes covers the band stage)', async () => {
    const s = Array.from({ length: 170 }, (_, i) => 100 * 0.97 ** i);
    for (const [rows, cols] of [
      [230, 170],
      [170, 230],
    ]) {
      const p = planted(rows, cols, s, 5);
      const { values } = await solver.spectrum(p.a, rows, cols);
      expect(values.length).toBe(170);
      s.forEach((si, i) => expect(Math.abs(values[i] - si)).toBeLessThanOrEqual(p.roundingNorm + 1e-9 * s[0]));
      const ref = jacobiSingularValues(p.a, rows, cols);
      ref.forEach((r, i) => expect(Math.abs(values[i] - r)).toBeLessThan(1e-8 * r));
    }
  });

  it('meets 1e-5 relative accuracy down to 1e-4 s_1 on a huge dynamic range', async () => {
    const n = 60;
    const s = Array.from({ length: n }, (_, i) => 10 ** (-7 * (i / (n - 1)))); // 1 .. 1e-7
    const p = planted(n, 90, s, 17);
    const ref = jacobiSingularValues(p.a, n, 90);
    const { values } = await solver.spectrum(p.a, n, 90);
    let checked = 0;
    ref.forEach((r, i) => {
      if (r < 1e-4 * ref[0]) return;
      checked++;
      expect(Math.abs(values[i] - r) / r).toBeLessThan(1e-5);
    });
    expect(checked).toBeGreaterThan(30);
    // Every value, resolved or not, stays within the absolute Gram floor.
    values.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-6 * ref[0]));
  });

  it('agrees with power iteration on the top singular value', async () => {
    const a = gaussianMatrix(50, 80, 4);
    const { values } = await solver.spectrum(a, 50, 80);
    expect(Math.abs(values[0] - powerIterationTop(a, 50, 80)) / values[0]).toBeLessThan(1e-9);
  });

  it('returns (near) zeros beyond the rank of an exactly rank-deficient matrix', async () => {
    const s = [8, 6, 3, 1, 0.5];
    const p = planted(64, 48, s, 8);
    const spec = await solver.spectrum(p.a, 64, 48, { leftVectors: 10 });
    s.forEach((si, i) => expect(Math.abs(spec.values[i] - si)).toBeLessThanOrEqual(p.roundingNorm + 1e-9));
    for (let i = 5; i < 48; i++) expect(spec.values[i]).toBeLessThanOrEqual(p.roundingNorm);
    // Float32 rounding lifts the tail to ~1e-7 s_1, above 1e-6 s_1 it must not go.
    expect(spec.leftCount).toBe(5);
    expect(spec.left!.length).toBe(64 * 5);
  });

  for (const [rows, cols] of [
    [60, 90],
    [90, 60],
  ]) {
    it(`returns planted left vectors of well-separated values (${rows}x${cols})`, async () => {
      const s = [10, 7, 5, 3.5, 2, 1, 0.5, 0.25];
      const p = planted(rows, cols, s, 31);
      const spec = await solver.spectrum(p.a, rows, cols, { leftVectors: 6 });
      expect(spec.leftCount).toBe(6);
      expect(spec.left!.length).toBe(rows * 6);
      for (let j = 0; j < 6; j++) expect(Math.abs(dot(column(spec.left!, rows, j), p.u[j]))).toBeGreaterThan(1 - 1e-6);
      expectOrthonormal(spec, rows);
    });

    it(`returns the invariant subspace of a cluster (${rows}x${cols})`, async () => {
      const s = [9, 4, 4, 4, 1, 0.5];
      const p = planted(rows, cols, s, 41);
      const spec = await solver.spectrum(p.a, rows, cols, { leftVectors: 4 });
      expect(Math.abs(dot(column(spec.left!, rows, 0), p.u[0]))).toBeGreaterThan(1 - 1e-6);
      // The projections of the planted cluster vectors onto the computed span are (almost) complete.
      for (const planted of p.u.slice(1, 4)) {
        let captured = 0;
        for (let j = 1; j < 4; j++) captured += dot(column(spec.left!, rows, j), planted) ** 2;
        expect(captured).toBeGreaterThan(1 - 1e-6);
      }
      expectOrthonormal(spec, rows);
    });
  }

  it('returns zeros and no vectors for the zero matrix', async () => {
    const spec = await solver.spectrum(new Float32Array(12 * 7), 12, 7, { leftVectors: 3 });
    expect(Array.from(spec.values)).toEqual(new Array(7).fill(0));
    expect(spec.leftCount).toBe(0);
  });

  it('handles 1xN and Nx1', async () => {
    const x = Float32Array.from([3, -4, 12, 0, 0.5]);
    const norm = Math.sqrt(9 + 16 + 144 + 0.25);
    const wide = await solver.spectrum(x, 1, 5, { leftVectors: 2 });
    expect(wide.values.length).toBe(1);
    expect(wide.values[0]).toBeCloseTo(norm, 12);
    expect(wide.leftCount).toBe(1);
    expect(Math.abs(wide.left![0])).toBeCloseTo(1, 14);
    const tall = await solver.spectrum(x, 5, 1, { leftVectors: 1 });
    expect(tall.values[0]).toBeCloseTo(norm, 12);
    expect(Math.abs(dot(tall.left!, x)) / norm).toBeCloseTo(1, 12);
  });

  it('does not modify its input and is deterministic', async () => {
    const a = gaussianMatrix(30, 20, 77);
    const copy = a.slice();
    const first = await solver.spectrum(a, 30, 20, { leftVectors: 3 });
    const second = await solver.spectrum(a, 30, 20, { leftVectors: 3 });
    expect(a).toEqual(copy);
    expect(second.values).toEqual(first.values);
    expect(second.left).toEqual(first.left);
  });

  it('rejects mismatched sizes, bad vector counts and non-finite entries', async () => {
    await expect(solver.spectrum(new Float32Array(5), 2, 3)).rejects.toThrow(/'a'/);
    await expect(solver.spectrum(new Float32Array(6), 2, 3, { leftVectors: -1 })).rejects.toThrow(/'leftVectors'/);
    await expect(solver.spectrum(Float32Array.of(1, Number.NaN), 1, 2)).rejects.toThrow(RangeError);
    await expect(solver.spectrum(new Float32Array(0), 1.5, 0)).rejects.toThrow(/'rows'/);
  });
});
