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
    for (let k = 0; k < count; k++) {
      const c0 = k * b;
      const r0 = c0 + b;
      const n = N - r0;
      // Columns c0..c0+b of the symmetric matrix are its rows, transposed: contiguous.
      let ct = cur.subarray(c0 * N, (c0 + b) * N);
      if (k > 0) {
        const vtc = new Float64Array(c0 * b);
        const ytc = new Float64Array(c0 * b);
        for (let r = 0; r < c0; r++) {
          vtc.set(vt.subarray(r * N + c0, r * N + c0 + b), r * b);
          ytc.set(yt.subarray(r * N + c0, r * N + c0 + b), r * b);
        }
        ct = await kernels.panelRows(ct, N, b, vt, yt, vtc, ytc, c0);
      }
      for (let j = 0; j < b; j++) {
        for (let r = j; r < b; r++) data[(j0 + c0 + j) * W + (r - j)] = ct[j * N + c0 + r];
      }
      const panel = new Float64Array(n * b);
      for (let j = 0; j < b; j++) panel.set(ct.subarray(j * N + r0, (j + 1) * N), j * n);
      const taus = panelQR(panel, n, b);
      // R lands in the band: (j0 + r0 + i, j0 + c0 + j) for i <= j.
      for (let j = 0; j < b; j++) {
        for (let i = 0; i <= Math.min(j, n - 1); i++) data[(j0 + c0 + j) * W + (b + i - j)] = panel[j * n + i];
      }
      const t = triangularFactor(panel, taus, n, b);
      // V^T of this panel, zero-padded to N columns, written straight into its rows of vt.
      for (let j = 0; j < Math.min(b, n); j++) {
        const row = (c0 + j) * N + r0;
        vt[row + j] = 1;
        vt.set(panel.subarray(j * n + j + 1, (j + 1) * n), row + j + 1);
      }
      if (keepReflectors) panels.push({ start: j0 + r0, n, v: unpackV(panel, n, b), t });
      const vkt = vt.subarray(c0 * N, (c0 + b) * N);
      const ykt = await kernels.panelY(cur, N, vkt, t, b, vt, yt, c0);
      // Only columns >= r0 of Y^T are meaningful (Q_k acts there); the rest must not leak into later updates.
      for (let j = 0; j < b; j++) yt.set(ykt.subarray(j * N + r0, (j + 1) * N), (c0 + j) * N + r0);
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
    // Two columns per pass, two partial sums each: plain loops are bound by the add latency otherwise.
    let q = j + 1;
    for (; q + 1 < b; q += 2) {
      const qo = q * n + j;
      const po = qo + n;
      let d0 = panel[qo];
      let d1 = panel[po];
      let e0 = 0;
      let e1 = 0;
      let t = 1;
      for (; t + 1 < len; t += 2) {
        const v0 = panel[off + t];
        const v1 = panel[off + t + 1];
        d0 += v0 * panel[qo + t];
        d1 += v0 * panel[po + t];
        e0 += v1 * panel[qo + t + 1];
        e1 += v1 * panel[po + t + 1];
      }
      if (t < len) {
        d0 += panel[off + t] * panel[qo + t];
        d1 += panel[off + t] * panel[po + t];
      }
      const f0 = tau * (d0 + e0);
      const f1 = tau * (d1 + e1);
      panel[qo] -= f0;
      panel[po] -= f1;
      for (let u = 1; u < len; u++) {
        const vu = panel[off + u];
        panel[qo + u] -= f0 * vu;
        panel[po + u] -= f1 * vu;
      }
    }
    if (q < b) {
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

/** The row-major n x b unit lower trapezoidal V of a factored column-major panel. */
function unpackV(panel: Float64Array, n: number, b: number): Float64Array {
  const v = new Float64Array(n * b);
  for (let j = 0; j < Math.min(b, n); j++) {
    v[j * b + j] = 1;
    for (let r = j + 1; r < n; r++) v[r * b + j] = panel[j * n + r];
  }
  return v;
}

/** Upper triangular T of the compact WY form `H_0 H_1 ... = I - V T V^T` of the panel's reflectors. */
function triangularFactor(panel: Float64Array, taus: Float64Array, n: number, b: number): Float64Array {
  const kmax = Math.min(b, n);
  const t = new Float64Array(b * b);
  const w = new Float64Array(b);
  for (let j = 0; j < kmax; j++) {
    const tau = taus[j];
    t[j * b + j] = tau;
    if (j === 0 || tau === 0) continue;
    // w_i = v_i . v_j, using v_j = 0 above row j and 1 at row j; both columns contiguous.
    const jo = j * n;
    for (let i = 0; i < j; i++) {
      const io = i * n;
      let s = panel[io + j];
      for (let r = j + 1; r < n; r++) s += panel[io + r] * panel[jo + r];
      w[i] = s;
    }
    for (let i = 0; i < j; i++) {
      let s = 0;
      for (let q = i; q < j; q++) s += t[i * b + q] * w[q];
      t[i * b + j] = -tau * s;
    }
  }
  return t;
}
