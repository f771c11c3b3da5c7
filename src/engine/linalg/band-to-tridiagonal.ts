/**
 * Second stage of the symmetric eigenvalue reduction: a symmetric band
 * matrix (half-bandwidth b) to tridiagonal form by Householder bulge chasing.
 */
import { makeReflector } from './householder.js';

/**
 * Lower part of a symmetric n x n band matrix with room for the bulges
 * created while chasing: element (r, c), r >= c, r - c < width, lives at
 * `data[c * width + (r - c)]`.
 */
export class SymmetricBand {
  readonly width: number;
  readonly data: Float64Array;

  /** @param bandwidth half-bandwidth b of the matrix; storage reserves 2b diagonals for bulges. */
  constructor(
    readonly n: number,
    readonly bandwidth: number,
  ) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`'n' must be a non-negative integer, got ${n}`);
    if (!Number.isInteger(bandwidth) || bandwidth < 1) {
      throw new RangeError(`'bandwidth' must be a positive integer, got ${bandwidth}`);
    }
    this.width = 2 * bandwidth + 1;
    this.data = new Float64Array(n * this.width);
  }

  /** Sets element (r, c) and, implicitly, (c, r); requires |r - c| <= bandwidth. */
  set(r: number, c: number, value: number): void {
    const [hi, lo] = r >= c ? [r, c] : [c, r];
    if (hi - lo > this.bandwidth) throw new RangeError(`element (${r}, ${c}) lies outside bandwidth ${this.bandwidth}`);
    this.data[lo * this.width + (hi - lo)] = value;
  }
}

/**
 * Log of the reflectors applied while chasing, in application order; needed
 * only to transform eigenvectors back. Reflector q acts on indices
 * `[start[q], start[q] + length[q])` with vector `v` (first entry 1) stored at
 * `vectors[offset[q] ..]`.
 */
export class ReflectorLog {
  start: Int32Array;
  length: Int32Array;
  offset: Float64Array;
  tau: Float64Array;
  vectors: Float64Array;
  count = 0;
  private used = 0;

  constructor(capacity: number, vectorCapacity: number) {
    this.start = new Int32Array(capacity);
    this.length = new Int32Array(capacity);
    this.offset = new Float64Array(capacity);
    this.tau = new Float64Array(capacity);
    this.vectors = new Float64Array(vectorCapacity);
  }

  push(start: number, v: Float64Array, len: number, tau: number): void {
    if (this.count === this.start.length) throw new RangeError('reflector log capacity exceeded');
    const q = this.count++;
    this.start[q] = start;
    this.length[q] = len;
    this.offset[q] = this.used;
    this.tau[q] = tau;
    this.vectors.set(v.subarray(0, len), this.used);
    this.used += len;
  }

  /**
   * Applies `H_1 H_2 ... H_N` to the row-major n x k matrix z (so an
   * eigenvector of the tridiagonal becomes one of the band matrix).
   */
  applyBackward(z: Float64Array, k: number): void {
    // Locals, not fields, inside the loops: V8 does not hoist the property loads.
    const { start, length, offset, tau: taus, vectors } = this;
    const w = new Float64Array(k);
    for (let q = this.count - 1; q >= 0; q--) {
      const base = start[q] * k;
      const len = length[q];
      const off = offset[q];
      const tau = taus[q];
      // v[0] = 1: the first row starts w, no zero fill.
      for (let j = 0; j < k; j++) w[j] = z[base + j];
      for (let t = 1; t < len; t++) {
        const vt = vectors[off + t];
        const row = base + t * k;
        for (let j = 0; j < k; j++) w[j] += vt * z[row + j];
      }
      for (let j = 0; j < k; j++) {
        const f = tau * w[j];
        w[j] = f;
        z[base + j] -= f;
      }
      for (let t = 1; t < len; t++) {
        const vt = vectors[off + t];
        const row = base + t * k;
        for (let j = 0; j < k; j++) z[row + j] -= vt * w[j];
      }
    }
  }
}

/** Upper bounds for a {@link ReflectorLog} of a chase on an n x n band of half-bandwidth b. */
export function reflectorLogCapacity(n: number, b: number): { count: number; vectors: number } {
  let count = 0;
  let vectors = 0;
  for (let i = 0; i + 2 < n; i++) {
    count += Math.ceil((n - i - 1) / b);
    vectors += n - i - 1;
  }
  return { count, vectors };
}

/**
 * Reduces `band` (destroyed) to tridiagonal form by orthogonal similarity.
 * Sweep i zeroes column i below the sub-diagonal with one reflector, then
 * chases the bulge it creates down the band, one block of b rows at a time,
 * annihilating only the first column of each bulge (the rest is taken by the
 * next sweep). Costs about 6 n^2 b flops.
 */
export function bandToTridiagonal(band: SymmetricBand, log?: ReflectorLog): { d: Float64Array; e: Float64Array } {
  const { n, bandwidth: b, width: W, data } = band;
  const v = new Float64Array(b);
  const p = new Float64Array(b);
  const z = new Float64Array(b);
  for (let i = 0; i + 2 < n; i++) {
    for (let s = i + 1; s < n - 1; s += b) {
      const len = Math.min(b, n - s);
      const c0 = s === i + 1 ? i : s - b;
      // The column to annihilate, rows [s, s + len), is contiguous in the band storage.
      const colOff = c0 * W + (s - c0);
      const { tau, beta } = makeReflector(data, colOff, len);
      // Nothing to annihilate here, but fill left by the previous sweep may still wait further down.
      if (tau === 0) continue;
      v[0] = 1;
      for (let t = 1; t < len; t++) {
        v[t] = data[colOff + t];
        data[colOff + t] = 0;
      }
      data[colOff] = beta;
      log?.push(s, v, len, tau);

      // Left application to the other columns of the previous block, rows [s, s + len).
      for (let c = c0 + 1; c < s; c++) {
        const off = c * W + (s - c);
        let dot = 0;
        for (let t = 0; t < len; t++) dot += v[t] * data[off + t];
        const f = tau * dot;
        for (let t = 0; t < len; t++) data[off + t] -= f * v[t];
      }

      // Two-sided application to the diagonal block: A <- A - v w^T - w v^T.
      p.fill(0, 0, len);
      for (let c = 0; c < len; c++) {
        const off = (s + c) * W - c;
        const vc = v[c];
        let acc = data[off + c] * vc;
        for (let r = c + 1; r < len; r++) {
          const a = data[off + r];
          p[r] += a * vc;
          acc += a * v[r];
        }
        p[c] += acc;
      }
      let vp = 0;
      for (let t = 0; t < len; t++) {
        p[t] *= tau;
        vp += v[t] * p[t];
      }
      const half = 0.5 * tau * vp;
      for (let t = 0; t < len; t++) p[t] -= half * v[t];
      for (let c = 0; c < len; c++) {
        const off = (s + c) * W - c;
        const vc = v[c];
        const wc = p[c];
        for (let r = c; r < len; r++) data[off + r] -= v[r] * wc + p[r] * vc;
      }

      // Right application to the next block of rows: creates the bulge chased next.
      const rs = s + len;
      const nr = Math.min(b, n - rs);
      if (nr <= 0) break;
      z.fill(0, 0, nr);
      for (let c = 0; c < len; c++) {
        const off = (s + c) * W + (rs - s - c);
        const vc = v[c];
        for (let t = 0; t < nr; t++) z[t] += data[off + t] * vc;
      }
      for (let c = 0; c < len; c++) {
        const off = (s + c) * W + (rs - s - c);
        const f = tau * v[c];
        for (let t = 0; t < nr; t++) data[off + t] -= z[t] * f;
      }
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(0, n - 1));
  for (let j = 0; j < n; j++) {
    d[j] = data[j * W];
    if (j + 1 < n) e[j] = data[j * W + 1];
  }
  return { d, e };
}
