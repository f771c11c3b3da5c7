/**
 * Full singular spectrum of large float32 matrices.
 *
 * Method: the Gram matrix of the smaller side, `G = A A^T` (rows <= cols) or
 * `A^T A`, is formed in float64 by onnxruntime (products of float32 numbers
 * are exact in float64, only the sums round); its eigenvalues come from
 * {@link symmetricEigen} (two-stage reduction, then QL), and
 * `s_i = sqrt(max(lambda_i, 0))`.
 *
 * Accuracy contract, for float32 input A with largest singular value s_1:
 * - every value has absolute error of order `eps64 * m * s_1^2 / s_i`
 *   (eps64 = 2.2e-16, m = min(rows, cols)), so relative error is at most
 *   about 1e-8 for `s_i >= 1e-4 * s_1` (the promise is <= 1e-5) and values
 *   below about `1e-7 * s_1` are not resolved (an exact rank-r matrix shows
 *   tail values of order 1e-8 * s_1 or less, not exact zeros);
 * - left vectors: unit norm and orthogonal to about 1e-12; the angle to the
 *   true vector is of order `eps64 * s_1^2 / gap_i`, gap_i the distance of
 *   `s_i^2` to the rest of the squared spectrum; inside a cluster of (nearly)
 *   equal values only the spanned subspace is meaningful.
 */
import { MatmulKernels } from '../ort/matmul-kernels.js';
import { symmetricEigen } from './symmetric-eigen.js';

/** Options for {@link SpectralSolver.spectrum}. */
export interface SpectrumOptions {
  /** number of leading LEFT singular vectors wanted (0 = none). Left = in R^rows. */
  leftVectors?: number;
}

/** Singular values (all) and optionally leading left singular vectors. */
export interface Spectrum {
  /** all min(rows, cols) singular values, descending, >= 0 */
  values: Float64Array;
  /** leading left singular vectors, column-major: vector j is left.subarray(j*rows, (j+1)*rows); unit norm, mutually orthogonal. Length rows*k. */
  left?: Float64Array;
  leftCount: number;
}

/** Left vectors are returned only for values above this fraction of s_1 (numerical rank). */
export const LEFT_VECTOR_RANK_TOLERANCE = 1e-6;

/** Computes full singular spectra; holds onnxruntime sessions until {@link SpectralSolver.release}. */
export class SpectralSolver {
  private constructor(private readonly kernels: MatmulKernels) {}

  /** @param options.threads intra-op threads for onnxruntime (default: os.availableParallelism()). */
  static async create(options: { threads?: number } = {}): Promise<SpectralSolver> {
    return new SpectralSolver(await MatmulKernels.create({ threads: options.threads }));
  }

  /**
   * Singular values of the row-major float32 matrix `a` (rows x cols), and
   * up to `options.leftVectors` leading left singular vectors (fewer when the
   * numerical rank, values > 1e-6 * s_1, is smaller; see `leftCount`).
   * Deterministic. Does not modify `a`. Memory: the m x m Gram matrix plus a
   * few matrices of its size.
   */
  async spectrum(a: Float32Array, rows: number, cols: number, options: SpectrumOptions = {}): Promise<Spectrum> {
    if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`'rows' must be a non-negative integer, got ${rows}`);
    if (!Number.isInteger(cols) || cols < 0) throw new RangeError(`'cols' must be a non-negative integer, got ${cols}`);
    if (a.length !== rows * cols) {
      throw new RangeError(`'a' must have rows * cols = ${rows * cols} elements, got ${a.length}`);
    }
    const wanted = options.leftVectors ?? 0;
    if (!Number.isInteger(wanted) || wanted < 0) {
      throw new RangeError(`'leftVectors' must be a non-negative integer, got ${wanted}`);
    }
    const m = Math.min(rows, cols);
    if (m === 0) return { values: new Float64Array(0), leftCount: 0, ...(wanted > 0 ? { left: new Float64Array(0) } : {}) };
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) throw new RangeError(`'a' must be finite, found ${a[i]} at index ${i}`);
    }

    const side = rows <= cols ? 'rows' : 'cols';
    const g = await this.kernels.gram(a, rows, cols, side);
    const k = Math.min(wanted, m);
    const eig = await symmetricEigen(g, m, this.kernels, { vectors: k });
    const values = new Float64Array(m);
    for (let i = 0; i < m; i++) values[i] = Math.sqrt(Math.max(eig.values[i], 0));
    if (wanted === 0) return { values, leftCount: 0 };

    let count = 0;
    while (count < k && values[0] > 0 && values[count] > LEFT_VECTOR_RANK_TOLERANCE * values[0]) count++;
    let u: Float64Array; // row-major rows x count
    if (side === 'rows') {
      u = selectColumns(eig.vectors, m, k, count);
    } else {
      // Right vectors of A^T A; A v_j = s_j u_j.
      u = await this.kernels.mixedProduct(a, rows, cols, selectColumns(eig.vectors, m, k, count), count);
    }
    const left = toColumnMajor(u, rows, count);
    orthonormalizeColumns(left, rows, count);
    return { values, left, leftCount: count };
  }

  /** Releases the onnxruntime sessions. */
  async release(): Promise<void> {
    await this.kernels.release();
  }
}

function selectColumns(z: Float64Array, n: number, k: number, count: number): Float64Array {
  if (count === k) return z;
  const out = new Float64Array(n * count);
  for (let i = 0; i < n; i++) for (let j = 0; j < count; j++) out[i * count + j] = z[i * k + j];
  return out;
}

/**
 * Modified Gram-Schmidt, twice, on the k contiguous columns of length n
 * (column-major), then a sign fix (largest-magnitude entry positive) so
 * results do not depend on the sign a solver happened to produce.
 */
function orthonormalizeColumns(u: Float64Array, n: number, k: number): void {
  for (let j = 0; j < k; j++) {
    const jo = j * n;
    for (let pass = 0; pass < 2; pass++) {
      for (let q = 0; q < j; q++) {
        const qo = q * n;
        let d0 = 0;
        let d1 = 0;
        let i = 0;
        for (; i + 1 < n; i += 2) {
          d0 += u[qo + i] * u[jo + i];
          d1 += u[qo + i + 1] * u[jo + i + 1];
        }
        if (i < n) d0 += u[qo + i] * u[jo + i];
        const dot = d0 + d1;
        for (let r = 0; r < n; r++) u[jo + r] -= dot * u[qo + r];
      }
    }
    let ssq = 0;
    let big = 0;
    for (let i = 0; i < n; i++) {
      const x = u[jo + i];
      ssq += x * x;
      if (Math.abs(x) > Math.abs(big)) big = x;
    }
    const f = (big < 0 ? -1 : 1) / Math.sqrt(ssq);
    for (let i = 0; i < n; i++) u[jo + i] *= f;
  }
}

function toColumnMajor(u: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[j * n + i] = u[i * k + j];
  return out;
}
