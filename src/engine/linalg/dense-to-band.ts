/**
 * First stage of the symmetric eigenvalue reduction: a dense symmetric
 * matrix to band form (half-bandwidth b) by blocked Householder. The panel
 * QR runs here in plain loops (O(n b^2) per panel); the two-sided trailing
 * update, where the O(n^3) work is, runs as float64 matrix products in
 * onnxruntime.
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

/**
 * Reduces the symmetric row-major m x m matrix `g` (not modified) to a band
 * of half-bandwidth `b`. Keeps the panel reflectors when `keepReflectors`
 * (memory about m^2 / 2 doubles), for transforming eigenvectors back.
 * Working memory: two more m x m buffers.
 */
export async function denseToBand(
  g: Float64Array,
  m: number,
  b: number,
  kernels: MatmulKernels,
  keepReflectors: boolean,
): Promise<BandReduction> {
  const band = new SymmetricBand(m, b);
  const { data, width: W } = band;
  const panels: PanelReflector[] = [];
  let cur = g;
  let size = m;
  let j0 = 0;
  // Two reused output buffers: onnxruntime writes each trailing matrix into the one not being read.
  const pingPong = m > b + 1 ? [new Float64Array((m - b) ** 2), new Float64Array(Math.max(0, m - 2 * b) ** 2)] : [];
  let turn = 0;
  while (size > b + 1) {
    for (let c = 0; c < b; c++) {
      for (let r = c; r < b; r++) data[(j0 + c) * W + (r - c)] = cur[r * size + c];
    }
    const n = size - b;
    const panel = new Float64Array(n * b);
    for (let i = 0; i < n; i++) {
      const row = (b + i) * size;
      for (let j = 0; j < b; j++) panel[j * n + i] = cur[row + j];
    }
    const taus = panelQR(panel, n, b);
    // R lands in the band: (j0 + b + i, j0 + j) for i <= j.
    for (let j = 0; j < b; j++) {
      for (let i = 0; i <= Math.min(j, n - 1); i++) data[(j0 + j) * W + (b + i - j)] = panel[j * n + i];
    }
    const { v, t } = blockReflector(panel, taus, n, b);
    cur = await kernels.trailingUpdate(cur, size, b, v, t, b, pingPong[turn]);
    turn = 1 - turn;
    if (keepReflectors) panels.push({ start: j0 + b, n, v, t });
    size = n;
    j0 += b;
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
