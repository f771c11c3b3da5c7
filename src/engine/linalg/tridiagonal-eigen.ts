/**
 * Eigenvalues and selected eigenvectors of a real symmetric tridiagonal
 * matrix `T` with diagonal `d` (length n) and off-diagonal `e`
 * (`e[i] = T[i+1][i]`, length n - 1).
 */
import { SeededRandom } from './seeded-random.js';

const EPS = 2 ** -52;
const INVERSE_ITERATIONS = 5;

function checkShape(d: Float64Array, e: Float64Array): void {
  if (d.length > 0 && e.length < d.length - 1) {
    throw new RangeError(`'e' must have length >= ${d.length - 1} (n - 1), got ${e.length}`);
  }
}

/**
 * All eigenvalues, in descending order, by implicit QL with Wilkinson shifts
 * (no vectors). Backward stable: each eigenvalue has absolute error of order
 * `eps * ||T||`.
 */
export function tridiagonalEigenvalues(d: Float64Array, e: Float64Array): Float64Array {
  checkShape(d, e);
  const n = d.length;
  if (n === 0) return new Float64Array(0);
  // Scaling to unit norm keeps sqrt(f^2 + g^2) below overflow and away from underflow.
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0) + (i < n - 1 ? Math.abs(e[i]) : 0));
  if (norm === 0) return new Float64Array(n);
  const inv = 1 / norm;
  const dd = new Float64Array(n);
  const ee = new Float64Array(n);
  for (let i = 0; i < n; i++) dd[i] = d[i] * inv;
  for (let i = 0; i < n - 1; i++) ee[i] = e[i] * inv;
  // Absolute deflation at eps * ||T|| (||T|| = 1 after scaling): a purely relative
  // test can stall forever on the noise-level eigenvalues of a rank-deficient Gram
  // matrix, and QL's backward error is eps * ||T|| anyway.
  const floor = EPS;
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m < n - 1; m++) {
        if (Math.abs(ee[m]) <= EPS * (Math.abs(dd[m]) + Math.abs(dd[m + 1])) + floor) break;
      }
      if (m === l) break;
      if (iter >= 100) throw new Error(`tridiagonal QL did not converge for eigenvalue ${l} of ${n}`);
      let g = (dd[l + 1] - dd[l]) / (2 * ee[l]);
      let r = Math.sqrt(g * g + 1);
      g = dd[m] - dd[l] + ee[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * ee[i];
        const b = c * ee[i];
        r = Math.sqrt(f * f + g * g);
        ee[i + 1] = r;
        if (r === 0) {
          dd[i + 1] -= p;
          ee[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = dd[i + 1] - p;
        r = (dd[i] - g) * s + 2 * c * b;
        p = s * r;
        dd[i + 1] = g + p;
        g = c * r - b;
      }
      if (underflow) continue;
      dd[l] -= p;
      ee[l] = g;
      ee[m] = 0;
    }
  }
  const sorted = Array.from(dd).sort((x, y) => y - x);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = sorted[i] * norm;
  return out;
}

/**
 * Eigenvectors for the given eigenvalues (as returned by
 * {@link tridiagonalEigenvalues}, descending) by inverse iteration with a
 * pivoted LU of `T - lambda I`. Vectors whose eigenvalues lie within
 * `1e-3 ||T||` of each other form a cluster and are orthogonalized against
 * each other at every step, so a cluster yields an orthonormal basis of its
 * invariant subspace. Deterministic (seeded start vectors).
 *
 * @returns row-major n x k matrix, column j the unit eigenvector of `lambdas[j]`.
 */
export function tridiagonalEigenvectors(d: Float64Array, e: Float64Array, lambdas: Float64Array): Float64Array {
  checkShape(d, e);
  const n = d.length;
  const k = lambdas.length;
  const out = new Float64Array(n * k);
  if (n === 0 || k === 0) return out;
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0) + (i < n - 1 ? Math.abs(e[i]) : 0));
  if (norm === 0) {
    for (let j = 0; j < Math.min(n, k); j++) out[j * k + j] = 1;
    return out;
  }
  const clusterGap = 1e-3 * norm;
  const tiny = EPS * norm;
  const rng = new SeededRandom(0x5eed);
  const lu = new TridiagonalLU(n);
  const x = new Float64Array(n);
  const vectors: Float64Array[] = [];
  let clusterStart = 0;
  let prevShift = Number.NaN;
  for (let j = 0; j < k; j++) {
    if (j > 0 && Math.abs(lambdas[j - 1] - lambdas[j]) > clusterGap) clusterStart = j;
    // Equal shifts would give identical operators; a tiny separation keeps vectors distinct.
    let shift = lambdas[j];
    if (j > clusterStart && Math.abs(shift - prevShift) < 10 * tiny) shift = prevShift - 10 * tiny;
    prevShift = shift;
    lu.factor(d, e, shift, tiny);
    for (let i = 0; i < n; i++) x[i] = rng.uniform() - 0.5;
    // With an eigenvalue accurate to eps ||T|| each solve gains a factor ~1/eps; the later
    // passes only matter inside clusters, where orthogonalization and iteration interleave.
    for (let iter = 0; iter < INVERSE_ITERATIONS; iter++) {
      orthogonalize(x, vectors, clusterStart, j);
      normalize(x);
      lu.solve(x);
    }
    orthogonalize(x, vectors, clusterStart, j);
    normalize(x);
    const v = Float64Array.from(x);
    vectors.push(v);
    for (let i = 0; i < n; i++) out[i * k + j] = v[i];
  }
  return out;
}

function orthogonalize(x: Float64Array, vectors: Float64Array[], from: number, to: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let q = from; q < to; q++) {
      const v = vectors[q];
      let dot = 0;
      for (let i = 0; i < x.length; i++) dot += v[i] * x[i];
      for (let i = 0; i < x.length; i++) x[i] -= dot * v[i];
    }
  }
}

function normalize(x: Float64Array): void {
  let big = 0;
  for (let i = 0; i < x.length; i++) big = Math.max(big, Math.abs(x[i]));
  if (big === 0) {
    x[0] = 1;
    return;
  }
  let ssq = 0;
  for (let i = 0; i < x.length; i++) {
    x[i] /= big;
    ssq += x[i] * x[i];
  }
  const nrm = Math.sqrt(ssq);
  for (let i = 0; i < x.length; i++) x[i] /= nrm;
}

/** LU with partial pivoting of `T - shift I`; `U` has two super-diagonals. */
class TridiagonalLU {
  private readonly u0: Float64Array;
  private readonly u1: Float64Array;
  private readonly u2: Float64Array;
  private readonly l: Float64Array;
  private readonly swap: Uint8Array;

  constructor(private readonly n: number) {
    this.u0 = new Float64Array(n);
    this.u1 = new Float64Array(n);
    this.u2 = new Float64Array(n);
    this.l = new Float64Array(n);
    this.swap = new Uint8Array(n);
  }

  factor(d: Float64Array, e: Float64Array, shift: number, tiny: number): void {
    const { n, u0, u1, u2, l, swap } = this;
    // Row i of the active part is (diag, sup, sup2) = (u0[i], u1[i], u2[i]).
    for (let i = 0; i < n; i++) {
      u0[i] = d[i] - shift;
      u1[i] = i < n - 1 ? e[i] : 0;
      u2[i] = 0;
    }
    for (let i = 0; i < n - 1; i++) {
      const sub = e[i];
      // Next row before elimination: (sub, d[i+1]-shift, e[i+1]).
      const nd = u0[i + 1];
      const ns = u1[i + 1];
      if (Math.abs(u0[i]) >= Math.abs(sub)) {
        swap[i] = 0;
        const p = u0[i] === 0 ? tiny : u0[i];
        u0[i] = p;
        const f = sub / p;
        l[i] = f;
        u0[i + 1] = nd - f * u1[i];
        u1[i + 1] = ns - f * u2[i];
      } else {
        swap[i] = 1;
        const f = u0[i] / sub;
        l[i] = f;
        const a1 = u1[i];
        const a2 = u2[i];
        u0[i] = sub;
        u1[i] = nd;
        u2[i] = ns;
        u0[i + 1] = a1 - f * nd;
        u1[i + 1] = a2 - f * ns;
      }
    }
    for (let i = 0; i < n; i++) if (Math.abs(u0[i]) < tiny) u0[i] = u0[i] < 0 ? -tiny : tiny;
  }

  /** Overwrites x with (T - shift I)^{-1} x, rescaled freely (only the direction matters). */
  solve(x: Float64Array): void {
    const { n, u0, u1, u2, l, swap } = this;
    for (let i = 0; i < n - 1; i++) {
      if (swap[i]) {
        const t = x[i];
        x[i] = x[i + 1];
        x[i + 1] = t - l[i] * x[i];
      } else {
        x[i + 1] -= l[i] * x[i];
      }
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i];
      if (i + 1 < n) s -= u1[i] * x[i + 1];
      if (i + 2 < n) s -= u2[i] * x[i + 2];
      x[i] = s / u0[i];
      if (Math.abs(x[i]) > 1e150) {
        for (let q = i; q < n; q++) x[q] *= 1e-150;
      }
    }
  }
}
