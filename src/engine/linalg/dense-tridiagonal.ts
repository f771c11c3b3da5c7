/**
 * One-stage Householder tridiagonalization of a dense symmetric matrix in
 * plain loops (about 4/3 m^3 flops). Below a few hundred rows this beats the
 * two-stage route (onnxruntime band stage plus bulge chase): there is no
 * per-call overhead and no 6 m^2 b chase, and the back-transformation of a
 * few eigenvectors is a cheap 2 m^2 k.
 */

import { makeReflector } from './householder.js';

/**
 * `T = Q^T G Q` with `Q = H_0 H_1 ... H_{m-3}`; reflector `H_j = I - tau_j v_j v_j^T`
 * acts on indices `[j + 1, m)`, `v_j[0] = 1` implicit and `v_j[1..]` stored in
 * row j of `store` from column j + 2 on.
 */
export class DenseTridiagonal {
  constructor(
    readonly m: number,
    /** diagonal of T (length m) */
    readonly d: Float64Array,
    /** sub-diagonal of T (length m - 1) */
    readonly e: Float64Array,
    private readonly store: Float64Array,
    private readonly taus: Float64Array,
  ) {}

  /** Overwrites the row-major m x k matrix `z` with `Q z` (eigenvectors of T become eigenvectors of G). */
  applyQ(z: Float64Array, k: number): void {
    const { m, store, taus } = this;
    if (z.length !== m * k) throw new RangeError(`'z' must have m * k = ${m * k} elements, got ${z.length}`);
    const w = new Float64Array(k);
    for (let j = m - 3; j >= 0; j--) {
      const tau = taus[j];
      if (tau === 0) continue;
      const vOff = j * m + j + 1; // store[vOff + t] is v[t] for t >= 1
      const base = (j + 1) * k;
      for (let c = 0; c < k; c++) w[c] = z[base + c];
      for (let t = 1; t < m - j - 1; t++) {
        const vt = store[vOff + t];
        const row = base + t * k;
        for (let c = 0; c < k; c++) w[c] += vt * z[row + c];
      }
      for (let c = 0; c < k; c++) {
        w[c] *= tau;
        z[base + c] -= w[c];
      }
      for (let t = 1; t < m - j - 1; t++) {
        const vt = store[vOff + t];
        const row = base + t * k;
        for (let c = 0; c < k; c++) z[row + c] -= vt * w[c];
      }
    }
  }
}

/**
 * Tridiagonalizes the symmetric row-major m x m matrix `g` (not modified;
 * only its upper triangle is read). Keeps the reflectors (one m x m buffer).
 */
export function denseToTridiagonal(g: Float64Array, m: number): DenseTridiagonal {
  if (g.length !== m * m) throw new RangeError(`'g' must have m * m = ${m * m} elements, got ${g.length}`);
  const a = Float64Array.from(g);
  const d = new Float64Array(m);
  const e = new Float64Array(Math.max(0, m - 1));
  const taus = new Float64Array(Math.max(0, m - 2));
  const v = new Float64Array(m);
  const y = new Float64Array(m);
  // Upper triangle, row-major: column j below the diagonal is row j right of it, contiguous.
  for (let j = 0; j + 2 < m; j++) {
    const n = m - j - 1;
    const off = j * m + j + 1;
    d[j] = a[j * m + j];
    const { tau, beta } = makeReflector(a, off, n);
    taus[j] = tau;
    e[j] = beta;
    if (tau === 0) continue;
    v[0] = 1;
    for (let t = 1; t < n; t++) v[t] = a[off + t];
    // y = tau * A22 v from the upper triangle of the trailing block.
    y.fill(0, 0, n);
    for (let i = 0; i < n; i++) {
      const r = (j + 1 + i) * m + (j + 1);
      const vi = v[i];
      let acc = a[r + i] * vi;
      for (let c = i + 1; c < n; c++) {
        const aic = a[r + c];
        acc += aic * v[c];
        y[c] += aic * vi;
      }
      y[i] += acc;
    }
    let yv = 0;
    for (let t = 0; t < n; t++) {
      y[t] *= tau;
      yv += y[t] * v[t];
    }
    // w = y - (tau/2)(y.v) v, then A22 -= v w^T + w v^T.
    const half = 0.5 * tau * yv;
    for (let t = 0; t < n; t++) y[t] -= half * v[t];
    for (let i = 0; i < n; i++) {
      const r = (j + 1 + i) * m + (j + 1);
      const vi = v[i];
      const wi = y[i];
      for (let c = i; c < n; c++) a[r + c] -= vi * y[c] + wi * v[c];
    }
  }
  if (m >= 2) {
    d[m - 2] = a[(m - 2) * m + (m - 2)];
    e[m - 2] = a[(m - 2) * m + (m - 1)];
  }
  if (m >= 1) d[m - 1] = a[m * m - 1];
  return new DenseTridiagonal(m, d, e, a, taus);
}
