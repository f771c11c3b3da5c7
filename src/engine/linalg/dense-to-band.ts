/**
 * First stage of the symmetric eigenvalue reduction: a dense symmetric
 * matrix to band form (half-bandwidth b) by blocked Householder. Panels of b
 * columns are factored here in plain loops (O(n b^2) each); the O(n^3) work
 * runs as float64 matrix products in onnxruntime. The two-sided update of the
 * trailing matrix is delayed and aggregated over a block of several panels
 * (as LAPACK's dsytrd does for single columns): per panel only one product
 * with the trailing matrix (`A V`), and one wide rank-2q update per block.
 * This cuts the passes over the large matrix several-fold, and lets the band
 * stay narrow (the chase costs 6 m^2 b) while the products stay wide.
 */
import type { MatmulKernels } from '../ort/matmul-kernels.js';
import { SymmetricBand } from './band-to-tridiagonal.js';
import { makeReflector } from './householder.js';

/** Block reflector `Q = I - V T V^T` acting on rows `[start, start + n)`. */
export interface PanelReflector {
  start: number;
  n: number;
  /** row-major n x b, unit lower trapezoidal */
  v: Float64Array;
  /** row-major b x b, upper triangular */
  t: Float64Array;
}

/** Result of {@link denseToBand}: `band = Q^T G Q` with `Q = Q_0 Q_1 ...` (panels in order). */
export interface BandReduction {
  band: SymmetricBand;
  panels: PanelReflector[];
}

/** Default number of columns whose trailing updates are aggregated into one product. */
export const DEFAULT_BLOCK_COLUMNS = 128;

/**
 * Reduces the symmetric row-major m x m matrix `g` (not modified) to a band
 * of half-bandwidth `b`. Keeps the panel reflectors when `keepReflectors`
 * (memory about m^2 / 2 doubles), for transforming eigenvectors back.
 * `blockColumns` (rounded down to a multiple of b, at least b) is how many
 * columns share one delayed trailing update. Working memory: two more m x m
 * buffers.
 */
export async function denseToBand(
  g: Float64Array,
  m: number,
  b: number,
  kernels: MatmulKernels,
  keepReflectors: boolean,
  blockColumns = DEFAULT_BLOCK_COLUMNS,
): Promise<BandReduction> {
  if (!Number.isInteger(b) || b < 1) throw new RangeError(`'b' must be a positive integer, got ${b}`);
  const band = new SymmetricBand(m, b);
  const { data, width: W } = band;
  const panels: PanelReflector[] = [];
  const perBlock = Math.max(1, Math.floor(blockColumns / b));
  let cur = g;
  let size = m;
  let j0 = 0;
  // Two reused output buffers (allocated at first use; later outputs are smaller).
  const pingPong: Array<Float64Array | undefined> = [undefined, undefined];
  let turn = 0;
  while (size > b + 1) {
    const N = size;
    let count = 0;
    while (count < perBlock && N - count * b > b + 1) count++;
    const q = count * b;
    // Earlier panels of this block, transposed: rows kb..kb+b of vt hold V_k^T (zero-padded to N).
    const vt = new Float64Array(q * N);
    const yt = new Float64Array(q * N);
    const cols = new Float64Array(N * b);
    for (let k = 0; k < count; k++) {
      const c0 = k * b;
      const r0 = c0 + b;
      const n = N - r0;
      for (let i = 0; i < N; i++) for (let j = 0; j < b; j++) cols[i * b + j] = cur[i * N + c0 + j];
      let c: Float64Array = cols;
      if (k > 0) {
        const vtc = new Float64Array(c0 * b);
        const ytc = new Float64Array(c0 * b);
        for (let r = 0; r < c0; r++) {
          for (let j = 0; j < b; j++) {
            vtc[r * b + j] = vt[r * N + c0 + j];
            ytc[r * b + j] = yt[r * N + c0 + j];
          }
        }
        c = await kernels.panelColumns(cols, N, b, vt, yt, vtc, ytc, c0);
      }
      for (let j = 0; j < b; j++) {
        for (let r = j; r < b; r++) data[(j0 + c0 + j) * W + (r - j)] = c[(c0 + r) * b + j];
      }
      const panel = new Float64Array(n * b);
      for (let i = 0; i < n; i++) for (let j = 0; j < b; j++) panel[j * n + i] = c[(r0 + i) * b + j];
      const taus = panelQR(panel, n, b);
      // R lands in the band: (j0 + r0 + i, j0 + c0 + j) for i <= j.
      for (let j = 0; j < b; j++) {
        for (let i = 0; i <= Math.min(j, n - 1); i++) data[(j0 + c0 + j) * W + (b + i - j)] = panel[j * n + i];
      }
      const { v, t } = blockReflector(panel, taus, n, b);
      if (keepReflectors) panels.push({ start: j0 + r0, n, v, t });
      const vPad = new Float64Array(N * b);
      vPad.set(v, r0 * b);
      const y = await kernels.panelY(cur, N, vPad, t, b, vt, yt, c0);
      // Only rows >= r0 of Y are meaningful (Q_k acts there); the rest must not leak into later updates.
      for (let j = 0; j < b; j++) {
        const vo = (c0 + j) * N;
        for (let i = r0; i < N; i++) {
          vt[vo + i] = vPad[i * b + j];
          yt[vo + i] = y[i * b + j];
        }
      }
    }
    const n = N - q;
    let out = pingPong[turn];
    if (out === undefined) out = pingPong[turn] = new Float64Array(n * n);
    cur = await kernels.blockUpdate(cur, N, q, vt, yt, q, out);
    turn = 1 - turn;
    size = n;
    j0 += q;
  }
  for (let c = 0; c < size; c++) {
    for (let r = c; r < size; r++) data[(j0 + c) * W + (r - c)] = cur[r * size + c];
  }
  return { band, panels };
}

/** Householder QR of the column-major n x b panel in place (R above, v below the diagonal). */
function panelQR(panel: Float64Array, n: number, b: number): Float64Array {
  const taus = new Float64Array(b);
  for (let j = 0; j < Math.min(b, n); j++) {
    const off = j * n + j;
    const len = n - j;
    const { tau, beta } = makeReflector(panel, off, len);
    taus[j] = tau;
    panel[off] = beta;
    if (tau === 0) continue;
    for (let q = j + 1; q < b; q++) {
      const qo = q * n + j;
      let dot = panel[qo];
      for (let t = 1; t < len; t++) dot += panel[off + t] * panel[qo + t];
      const f = tau * dot;
      panel[qo] -= f;
      for (let t = 1; t < len; t++) panel[qo + t] -= f * panel[off + t];
    }
  }
  return taus;
}

/** Compact WY form `H_0 H_1 ... = I - V T V^T` of the panel's reflectors. */
function blockReflector(panel: Float64Array, taus: Float64Array, n: number, b: number): { v: Float64Array; t: Float64Array } {
  const v = new Float64Array(n * b);
  const kmax = Math.min(b, n);
  for (let j = 0; j < kmax; j++) {
    v[j * b + j] = 1;
    for (let r = j + 1; r < n; r++) v[r * b + j] = panel[j * n + r];
  }
  const t = new Float64Array(b * b);
  const w = new Float64Array(b);
  for (let j = 0; j < kmax; j++) {
    const tau = taus[j];
    t[j * b + j] = tau;
    if (j === 0 || tau === 0) continue;
    // w = V[:, 0:j]^T v_j, using v_j = 0 above row j and 1 at row j.
    for (let i = 0; i < j; i++) w[i] = panel[i * n + j];
    for (let r = j + 1; r < n; r++) {
      const vr = panel[j * n + r];
      for (let i = 0; i < j; i++) w[i] += panel[i * n + r] * vr;
    }
    for (let i = 0; i < j; i++) {
      let s = 0;
      for (let q = i; q < j; q++) s += t[i * b + q] * w[q];
      t[i * b + j] = -tau * s;
    }
  }
  return { v, t };
}
