import { describe, expect, it } from 'vitest';
import { tridiagonalEigenvalues, tridiagonalEigenvectors } from '../../src/engine/linalg/tridiagonal-eigen.js';

function residual(d: Float64Array, e: Float64Array, x: Float64Array, lambda: number): number {
  const n = d.length;
  let worst = 0;
  for (let i = 0; i < n; i++) {
    let y = d[i] * x[i] - lambda * x[i];
    if (i > 0) y += e[i - 1] * x[i - 1];
    if (i < n - 1) y += e[i] * x[i + 1];
    worst = Math.max(worst, Math.abs(y));
  }
  return worst;
}

function columnOf(z: Float64Array, n: number, k: number, j: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => z[i * k + j]);
}

describe('tridiagonal eigen-solver', () => {
  const n = 200;
  // The (2, -1) Toeplitz matrix: lambda_j = 2 - 2 cos(j pi / (n + 1)), v_j(i) ~ sin(i j pi / (n + 1)).
  const d = new Float64Array(n).fill(2);
  const e = new Float64Array(n - 1).fill(-1);
  const closed = Array.from({ length: n }, (_, j) => 2 - 2 * Math.cos(((j + 1) * Math.PI) / (n + 1))).sort((a, b) => b - a);

  it('matches the closed-form eigenvalues of the (2, -1) Toeplitz matrix', () => {
    const got = tridiagonalEigenvalues(d, e);
    closed.forEach((c, i) => expect(Math.abs(got[i] - c)).toBeLessThan(1e-13));
  });

  it('matches the closed-form eigenvectors up to sign', () => {
    const vals = tridiagonalEigenvalues(d, e);
    const k = 5;
    const z = tridiagonalEigenvectors(d, e, vals.subarray(0, k));
    for (let j = 0; j < k; j++) {
      const mode = n - j; // descending order: largest eigenvalue is mode n
      const ref = Float64Array.from({ length: n }, (_, i) => Math.sin(((i + 1) * mode * Math.PI) / (n + 1)));
      const nrm = Math.sqrt(ref.reduce((s, x) => s + x * x, 0));
      const x = columnOf(z, n, k, j);
      const cos = Math.abs(x.reduce((s, xi, i) => s + (xi * ref[i]) / nrm, 0));
      expect(cos).toBeGreaterThan(1 - 1e-10);
    }
  });

  it('returns an orthonormal basis with small residuals for a tight cluster', () => {
    // Two decoupled identical blocks: every eigenvalue is exactly double.
    const m = 60;
    const dd = new Float64Array(2 * m);
    const ee = new Float64Array(2 * m - 1);
    for (let i = 0; i < m; i++) {
      dd[i] = dd[m + i] = 1 + i / m;
      if (i < m - 1) ee[i] = ee[m + i] = 0.3;
    }
    const vals = tridiagonalEigenvalues(dd, ee);
    expect(Math.abs(vals[0] - vals[1])).toBeLessThan(1e-13);
    const k = 6;
    const z = tridiagonalEigenvectors(dd, ee, vals.subarray(0, k));
    const cols = Array.from({ length: k }, (_, j) => columnOf(z, 2 * m, k, j));
    for (let j = 0; j < k; j++) {
      expect(residual(dd, ee, cols[j], vals[j])).toBeLessThan(1e-12);
      for (let q = 0; q <= j; q++) {
        const g = cols[j].reduce((s, x, i) => s + x * cols[q][i], 0);
        expect(Math.abs(g - (q === j ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('handles the zero matrix, a 1x1 and a diagonal matrix', () => {
    expect(Array.from(tridiagonalEigenvalues(new Float64Array(4), new Float64Array(3)))).toEqual([0, 0, 0, 0]);
    expect(Array.from(tridiagonalEigenvalues(Float64Array.of(-3), new Float64Array(0)))).toEqual([-3]);
    const got = tridiagonalEigenvalues(Float64Array.of(1, -5, 4), new Float64Array(2));
    expect(Array.from(got)).toEqual([4, 1, -5]);
  });

  it('rejects an off-diagonal that is too short', () => {
    expect(() => tridiagonalEigenvalues(new Float64Array(4), new Float64Array(2))).toThrow(/'e'/);
  });
});
