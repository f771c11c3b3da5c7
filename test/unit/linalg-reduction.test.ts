import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatmulKernels } from '../../src/engine/ort/matmul-kernels.js';
import {
  bandToTridiagonal,
  ReflectorLog,
  reflectorLogCapacity,
  SymmetricBand,
} from '../../src/engine/linalg/band-to-tridiagonal.js';
import { jacobiSingularValues } from '../../src/engine/linalg/jacobi-svd.js';
import { symmetricEigen } from '../../src/engine/linalg/symmetric-eigen.js';
import { tridiagonalEigenvalues, tridiagonalEigenvectors } from '../../src/engine/linalg/tridiagonal-eigen.js';
import { gaussian, plantedSymmetric } from './linalg-fixtures.js';

function maxResidual(g: Float64Array, m: number, z: Float64Array, k: number, values: Float64Array): number {
  let worst = 0;
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < m; i++) {
      let y = -values[j] * z[i * k + j];
      for (let c = 0; c < m; c++) y += g[i * m + c] * z[c * k + j];
      worst = Math.max(worst, Math.abs(y));
    }
  }
  return worst;
}

describe('band to tridiagonal (bulge chasing)', () => {
  const n = 90;
  const b = 7;
  const rnd = gaussian(3);
  const dense = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = Math.max(0, i - b); j <= i; j++) dense[i * n + j] = dense[j * n + i] = rnd();
  }
  const fill = (): SymmetricBand => {
    const band = new SymmetricBand(n, b);
    for (let i = 0; i < n; i++) for (let j = Math.max(0, i - b); j <= i; j++) band.set(i, j, dense[i * n + j]);
    return band;
  };

  it('preserves the eigenvalues (|lambda| equal Jacobi singular values of the dense band matrix)', () => {
    const { d, e } = bandToTridiagonal(fill());
    const abs = Array.from(tridiagonalEigenvalues(d, e), Math.abs).sort((x, y) => y - x);
    const ref = jacobiSingularValues(dense, n, n);
    abs.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-12 * ref[0]));
  });

  it('preserves trace and Frobenius norm', () => {
    const { d, e } = bandToTridiagonal(fill());
    let trace = 0;
    let fro = 0;
    for (let i = 0; i < n; i++) {
      trace += dense[i * n + i];
      for (let j = 0; j < n; j++) fro += dense[i * n + j] ** 2;
    }
    const tTrace = d.reduce((s, x) => s + x, 0);
    const tFro = d.reduce((s, x) => s + x * x, 0) + 2 * e.reduce((s, x) => s + x * x, 0);
    expect(tTrace).toBeCloseTo(trace, 10);
    expect(tFro).toBeCloseTo(fro, 9);
  });

  it('transforms tridiagonal eigenvectors back to eigenvectors of the band matrix', () => {
    const cap = reflectorLogCapacity(n, b);
    const log = new ReflectorLog(cap.count, cap.vectors);
    const { d, e } = bandToTridiagonal(fill(), log);
    const vals = tridiagonalEigenvalues(d, e);
    const k = 4;
    const z = tridiagonalEigenvectors(d, e, vals.subarray(0, k));
    log.applyBackward(z, k);
    expect(maxResidual(dense, n, z, k, vals)).toBeLessThan(1e-12 * Math.abs(vals[0]));
  });

  it('rejects elements outside the bandwidth', () => {
    expect(() => new SymmetricBand(5, 2).set(4, 0, 1)).toThrow(RangeError);
  });
});

describe('symmetricEigen (dense -> band in onnxruntime -> tridiagonal)', () => {
  let kernels: MatmulKernels;
  beforeAll(async () => {
    kernels = await MatmulKernels.create({ threads: 1 });
  });
  afterAll(async () => {
    await kernels.release();
  });

  // m = 77 with bandwidth 6 runs 12 panels of the onnxruntime stage, the last one ragged.
  const m = 77;
  const lambda = Array.from({ length: m }, (_, i) => (i % 3 === 0 ? -1 : 1) * (1 + i * 0.37));
  lambda[5] = lambda[6] = 50; // an exact double eigenvalue at the top
  const sorted = [...lambda].sort((x, y) => y - x);

  for (const bandwidth of [6, 48]) {
    it(`recovers planted eigenvalues (bandwidth ${bandwidth})`, async () => {
      const g = plantedSymmetric(lambda, 21);
      const res = await symmetricEigen(g, m, kernels, { bandwidth });
      sorted.forEach((l, i) => expect(Math.abs(res.values[i] - l)).toBeLessThan(1e-12 * 50));
    });
  }

  it('returns orthonormal leading eigenvectors with small residuals, spanning the double eigenvalue', async () => {
    const g = plantedSymmetric(lambda, 21);
    const original = g.slice();
    const k = 5;
    const res = await symmetricEigen(g, m, kernels, { bandwidth: 6, vectors: k });
    expect(res.vectorCount).toBe(k);
    expect(maxResidual(original, m, res.vectors, k, res.values)).toBeLessThan(1e-11 * 50);
    for (let j = 0; j < k; j++) {
      for (let q = 0; q <= j; q++) {
        let s = 0;
        for (let i = 0; i < m; i++) s += res.vectors[i * k + j] * res.vectors[i * k + q];
        expect(Math.abs(s - (q === j ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('rejects a matrix of the wrong size', async () => {
    await expect(symmetricEigen(new Float64Array(5), 2, kernels)).rejects.toThrow(/'g'/);
  });
});
