/**
 * Float64 building blocks of the Qwen-VL reference: plain loops, row-major
 * [rows, cols] matrices in Float64Array. Self-contained (no engine code).
 */

/** A float64 tensor of the reference weight map. */
export interface RefTensor {
  shape: number[];
  data: Float64Array;
}

/** Hub tensor name -> float64 tensor. */
export type RefWeights = ReadonlyMap<string, RefTensor>;

export function weight(w: RefWeights, name: string): RefTensor {
  const t = w.get(name);
  if (!t) throw new Error(`reference: tensor '${name}' is missing`);
  return t;
}

/** y[r] = W x[r] + b for W [out, in] (nn.Linear). */
export function linear(x: Float64Array, rows: number, w: RefTensor, b?: RefTensor): Float64Array {
  const out = w.shape[0]!;
  const inn = w.data.length / out;
  if (x.length !== rows * inn) throw new Error(`linear: input has ${x.length / rows} columns, weight wants ${inn}`);
  const y = new Float64Array(rows * out);
  const W = w.data;
  for (let r = 0; r < rows; r++) {
    const xo = r * inn;
    for (let o = 0; o < out; o++) {
      let s = b ? b.data[o]! : 0;
      const wo = o * inn;
      for (let i = 0; i < inn; i++) s += W[wo + i]! * x[xo + i]!;
      y[r * out + o] = s;
    }
  }
  return y;
}

/** Qwen2RMSNorm: x / sqrt(mean(x^2) + eps) * weight. */
export function rmsNorm(x: Float64Array, rows: number, w: RefTensor, eps: number): Float64Array {
  const n = w.data.length;
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[r * n + i]! ** 2;
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = x[r * n + i]! * inv * w.data[i]!;
  }
  return y;
}

/** nn.LayerNorm (biased variance) with weight and bias. */
export function layerNorm(x: Float64Array, rows: number, w: RefTensor, b: RefTensor, eps: number): Float64Array {
  const n = w.data.length;
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[r * n + i]!;
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[r * n + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = (x[r * n + i]! - mean) * inv * w.data[i]! + b.data[i]!;
  }
  return y;
}

/** erf to ~1e-14: Maclaurin series below 3, Laplace continued fraction of erfc above. */
export function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc(a) = exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...)))))
    let f = a;
    for (let k = 80; k >= 1; k--) f = a + k / 2 / f;
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}

/** ACT2FN of transformers for the names these models use. */
export function activation(name: string): (x: number) => number {
  switch (name) {
    case 'silu':
    case 'swish':
      return (x) => x / (1 + Math.exp(-x));
    case 'quick_gelu':
      return (x) => x / (1 + Math.exp(-1.702 * x));
    case 'gelu':
      return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_pytorch_tanh':
    case 'gelu_new':
      return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    default:
      throw new Error(`reference: activation '${name}' is not modelled`);
  }
}

export function mapInPlace(x: Float64Array, f: (v: number) => number): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] = f(x[i]!);
  return x;
}

export function addInPlace(x: Float64Array, y: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + y[i]!;
  return x;
}

/** rotate_half on one head vector of size d, written into out: [-x2, x1]. */
export function applyRotary(v: Float64Array, offset: number, d: number, cos: Float64Array, sin: Float64Array, cOff: number): void {
  const half = d / 2;
  const tmp = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    const rot = c < half ? -v[offset + c + half]! : v[offset + c - half]!;
    tmp[c] = v[offset + c]! * cos[cOff + c]! + rot * sin[cOff + c]!;
  }
  v.set(tmp, offset);
}

/**
 * Softmax attention of one head: q rows [nq, ...] against k/v rows, with
 * `allowed(i, j)`; a query row with no allowed key gets NaN.
 * q, k, v are accessed as x[row * stride + off + c], c < d.
 */
export function attendHead(
  q: Float64Array, qStride: number, qOff: number, nq: number,
  k: Float64Array, v: Float64Array, kvStride: number, kvOff: number, nk: number,
  d: number, allowed: (i: number, j: number) => boolean, out: Float64Array, outStride: number, outOff: number,
): void {
  const scale = 1 / Math.sqrt(d);
  const s = new Float64Array(nk);
  for (let i = 0; i < nq; i++) {
    let max = -Infinity;
    for (let j = 0; j < nk; j++) {
      if (!allowed(i, j)) {
        s[j] = -Infinity;
        continue;
      }
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[i * qStride + qOff + c]! * k[j * kvStride + kvOff + c]!;
      s[j] = dot * scale;
      if (s[j]! > max) max = s[j]!;
    }
    if (max === -Infinity) {
      for (let c = 0; c < d; c++) out[i * outStride + outOff + c] = NaN;
      continue;
    }
    let z = 0;
    for (let j = 0; j < nk; j++) {
      s[j] = s[j] === -Infinity ? 0 : Math.exp(s[j]! - max);
      z += s[j]!;
    }
    for (let c = 0; c < d; c++) {
      let acc = 0;
      for (let j = 0; j < nk; j++) if (s[j] !== 0) acc += s[j]! * v[j * kvStride + kvOff + c]!;
      out[i * outStride + outOff + c] = acc / z;
    }
  }
}
