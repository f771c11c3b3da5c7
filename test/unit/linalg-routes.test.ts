import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bandToTridiagonal } from '../../src/engine/linalg/band-to-tridiagonal.js';
import { denseToBand } from '../../src/engine/linalg/dense-to-band.js';
import { denseToTridiagonal } from '../../src/engine/linalg/dense-tridiagonal.js';
import { SpectralSolver } from '../../src/engine/linalg/spectral-solver.js';
import { ONE_STAGE_MAX } from '../../src/engine/linalg/symmetric-eigen.js';
import { tridiagonalEigenvalues, tridiagonalEigenvectors } from '../../src/engine/linalg/tridiagonal-eigen.js';
import { MatmulKernels } from '../../src/engine/ort/matmul-kernels.js';
import { column, dot, planted, plantedSymmetric } from './linalg-fixtures.js';

const m = 61;
const lambda = Array.from({ length: m }, (_, i) => (i % 4 === 1 ? -1 : 1) * (0.5 + i * 0.41));
lambda[3] = lambda[9] = 40; // an exact double eigenvalue at the top
const sorted = [...lambda].sort((x, y) => y - x);

describe('one-stage tridiagonalization (plain loops)', () => {
  it('preserves the planted eigenvalues and leaves its input alone', () => {
    const g = plantedSymmetric(lambda, 5);
    const copy = g.slice();
    const tri = denseToTridiagonal(g, m);
    expect(g).toEqual(copy);
    const got = tridiagonalEigenvalues(tri.d, tri.e);
    sorted.forEach((l, i) => expect(Math.abs(got[i] - l)).toBeLessThan(1e-12 * 40));
  });

  it('maps tridiagonal eigenvectors to orthonormal eigenvectors of the dense matrix', () => {
    const g = plantedSymmetric(lambda, 6);
    const tri = denseToTridiagonal(g, m);
    const vals = tridiagonalEigenvalues(tri.d, tri.e);
    const k = 4;
    const z = tridiagonalEigenvectors(tri.d, tri.e, vals.subarray(0, k));
    tri.applyQ(z, k);
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < m; i++) {
        let y = -vals[j] * z[i * k + j];
        for (let c = 0; c < m; c++) y += g[i * m + c] * z[c * k + j];
        expect(Math.abs(y)).toBeLessThan(1e-11 * 40);
      }
      for (let q = 0; q <= j; q++) {
        let s = 0;
        for (let i = 0; i < m; i++) s += z[i * k + j] * z[i * k + q];
        expect(Math.abs(s - (q === j ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('handles orders 1, 2 and 3', () => {
    for (const n of [1, 2, 3]) {
      const l = [3, -2, 0.5].slice(0, n);
      const tri = denseToTridiagonal(plantedSymmetric(l, 9), n);
      const got = tridiagonalEigenvalues(tri.d, tri.e);
      [...l].sort((x, y) => y - x).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 13));
    }
  });
});

describe('band stage with delayed, aggregated updates', () => {
  let kernels: MatmulKernels;
  beforeAll(async () => {
    kernels = await MatmulKernels.create({ threads: 1 });
  });
  afterAll(async () => {
    await kernels.release();
  });

  // b = 5 with 3 panels per block: several blocks, the last one short and its last panel ragged.
  for (const [b, blockColumns] of [
    [5, 15],
    [4, 4],
    [7, 1000],
  ]) {
    it(`keeps the planted eigenvalues and the band shape (b = ${b}, ${blockColumns} columns per update)`, async () => {
      const g = plantedSymmetric(lambda, 11);
      const { band } = await denseToBand(g, m, b, kernels, false, blockColumns);
      // Nothing outside the half-bandwidth.
      for (let c = 0; c < m; c++) for (let r = c + b + 1; r < Math.min(m, c + band.width); r++) expect(band.data[c * band.width + (r - c)]).toBe(0);
      const { d, e } = bandToTridiagonal(band);
      const got = tridiagonalEigenvalues(d, e);
      sorted.forEach((l, i) => expect(Math.abs(got[i] - l)).toBeLessThan(1e-12 * 40));
    });
  }
});

describe('SpectralSolver on both sides of the one-stage crossover', () => {
  let solver: SpectralSolver;
  beforeAll(async () => {
    solver = await SpectralSolver.create({ threads: 1 });
  });
  afterAll(async () => {
    await solver.release();
  });

  for (const n of [ONE_STAGE_MAX, ONE_STAGE_MAX + 40]) {
    it(`recovers planted values and vectors at order ${n}`, async () => {
      const s = Array.from({ length: n }, (_, i) => 50 * 0.96 ** i);
      const p = planted(n + 30, n, s, n);
      const spec = await solver.spectrum(p.a, n + 30, n, { leftVectors: 8 });
      s.forEach((si, i) => expect(Math.abs(spec.values[i] - si)).toBeLessThanOrEqual(p.roundingNorm + 1e-9 * s[0]));
      expect(spec.leftCount).toBe(8);
      for (let j = 0; j < 8; j++) expect(Math.abs(dot(column(spec.left!, n + 30, j), p.u[j]))).toBeGreaterThan(1 - 1e-6);
    });
  }
});
