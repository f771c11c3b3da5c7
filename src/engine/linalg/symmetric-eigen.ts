/**
 * Eigenvalues (all) and leading eigenvectors (a few) of a dense symmetric
 * matrix: tridiagonal reduction, then implicit QL (values) and inverse
 * iteration (vectors). Small matrices are reduced in one stage in plain
 * loops; larger ones in two stages: dense -> band (blocked Householder,
 * matrix products in onnxruntime) -> tridiagonal (bulge chasing).
 */
import type { MatmulKernels } from '../ort/matmul-kernels.js';
import { bandToTridiagonal, ReflectorLog, reflectorLogCapacity, SymmetricBand } from './band-to-tridiagonal.js';
import { denseToBand } from './dense-to-band.js';
import { denseToTridiagonal } from './dense-tridiagonal.js';
import { tridiagonalEigenvalues, tridiagonalEigenvectors } from './tridiagonal-eigen.js';

/** Options for {@link symmetricEigen}. */
export interface SymmetricEigenOptions {
  /** number of leading eigenvectors (largest eigenvalues) wanted; default 0. */
  vectors?: number;
  /**
   * half-bandwidth of the intermediate band; default {@link DEFAULT_BANDWIDTH}.
   * Giving it forces the two-stage route even below {@link ONE_STAGE_MAX}.
   */
  bandwidth?: number;
}

/** Result of {@link symmetricEigen}. */
export interface SymmetricEigenResult {
  /** all eigenvalues, descending */
  values: Float64Array;
  /** row-major m x k: column j is the unit eigenvector of values[j] */
  vectors: Float64Array;
  vectorCount: number;
}

/**
 * Band half-width. The chase costs 6 m^2 b flops in plain loops, so narrow is
 * good; the products stay wide anyway because the band stage aggregates the
 * updates of several panels (see denseToBand). Measured best of 8..48 at m = 256..3584.
 */
export const DEFAULT_BANDWIDTH = 16;

/** Up to this order the one-stage reduction in plain loops is the faster route (measured: ~250 values only, ~300 with 50 vectors). */
export const ONE_STAGE_MAX = 256;

/**
 * Eigen-decomposition of the symmetric row-major m x m matrix `g`. `g` is
 * scaled in place by a power of two (exact) and otherwise left as is.
 * Eigenvalues are backward stable: absolute error of order `eps64 * ||g||`.
 */
export async function symmetricEigen(
  g: Float64Array,
  m: number,
  kernels: MatmulKernels,
  options: SymmetricEigenOptions = {},
): Promise<SymmetricEigenResult> {
  const k = Math.min(options.vectors ?? 0, m);
  const b = options.bandwidth ?? DEFAULT_BANDWIDTH;
  if (g.length !== m * m) throw new RangeError(`'g' must have m * m = ${m * m} elements, got ${g.length}`);
  if (m === 0) return { values: new Float64Array(0), vectors: new Float64Array(0), vectorCount: 0 };

  let big = 0;
  for (let i = 0; i < m; i++) big = Math.max(big, Math.abs(g[i * m + i]));
  for (let i = 0; i < g.length && big === 0; i++) big = Math.max(big, Math.abs(g[i]));
  const scale = big > 0 ? 2 ** -Math.round(Math.log2(big)) : 1;
  if (scale !== 1) for (let i = 0; i < g.length; i++) g[i] *= scale;

  if (options.bandwidth === undefined && m <= ONE_STAGE_MAX) {
    const tri = denseToTridiagonal(g, m);
    const scaled = tridiagonalEigenvalues(tri.d, tri.e);
    const values = scaled.map((x) => x / scale);
    if (k === 0) return { values, vectors: new Float64Array(0), vectorCount: 0 };
    const z = tridiagonalEigenvectors(tri.d, tri.e, scaled.subarray(0, k));
    tri.applyQ(z, k);
    return { values, vectors: z, vectorCount: k };
  }

  // Small matrices: the dense matrix itself is a band, and chasing it is plain tridiagonalization.
  const reduction =
    m <= 3 * b
      ? { band: denseAsBand(g, m), panels: [] }
      : await denseToBand(g, m, b, kernels, k > 0);
  const { band, panels } = reduction;
  let log: ReflectorLog | undefined;
  if (k > 0) {
    const cap = reflectorLogCapacity(m, band.bandwidth);
    log = new ReflectorLog(cap.count, cap.vectors);
  }
  const { d, e } = bandToTridiagonal(band, log);
  const scaled = tridiagonalEigenvalues(d, e);
  const values = scaled.map((x) => x / scale);
  if (k === 0 || log === undefined) return { values, vectors: new Float64Array(0), vectorCount: 0 };

  const z = tridiagonalEigenvectors(d, e, scaled.subarray(0, k));
  log.applyBackward(z, k);
  for (let q = panels.length - 1; q >= 0; q--) {
    const { start, n, v, t } = panels[q];
    const rows = z.subarray(start * k, (start + n) * k);
    rows.set(await kernels.blockReflector(rows, n, k, v, t, b));
  }
  return { values, vectors: z, vectorCount: k };
}

function denseAsBand(g: Float64Array, m: number): SymmetricBand {
  const band = new SymmetricBand(m, Math.max(1, m - 1));
  const { data, width: W } = band;
  for (let c = 0; c < m; c++) {
    for (let r = c; r < m; r++) data[c * W + (r - c)] = g[r * m + c];
  }
  return band;
}
