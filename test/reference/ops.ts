/**
 * Float64 building blocks of the reference forward pass (docs/model.md,
 * "Building blocks"), written as plain loops for readability. Test-only;
 * shares no code with src/engine/graphs or src/engine/runtime.
 */

/** Weights by tensor name, float32 or float64, row-major. */
export type WeightMap = ReadonlyMap<string, Float64Array | Float32Array>;

/** The named tensor, or an error naming it. */
export function tensor(weights: WeightMap, name: string): Float64Array | Float32Array {
  const t = weights.get(name);
  if (!t) throw new RangeError(`reference: weight '${name}' is missing`);
  return t;
}

/**
 * y = x Wᵀ + b for `rows` rows of x (each `inDim` wide); W is [outDim, inDim].
 * @returns rows × outDim
 */
export function linear(x: Float64Array, rows: number, w: ArrayLike<number>, outDim: number, inDim: number, b?: ArrayLike<number>): Float64Array {
  if (x.length !== rows * inDim) throw new RangeError(`reference linear: x has ${x.length} values, expected ${rows}×${inDim}`);
  if (w.length !== outDim * inDim) throw new RangeError(`reference linear: W has ${w.length} values, expected ${outDim}×${inDim}`);
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < inDim; i++) s += x[r * inDim + i]! * w[o * inDim + i]!;
      y[r * outDim + o] = s;
    }
  }
  return y;
}

/** RMSNorm over each row: w ⊙ x / sqrt(mean(x²) + eps). */
export function rmsNorm(x: Float64Array, rows: number, n: number, w: ArrayLike<number>, eps: number): Float64Array {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let ms = 0;
    for (let i = 0; i < n; i++) ms += x[r * n + i]! ** 2;
    const inv = 1 / Math.sqrt(ms / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = w[i]! * x[r * n + i]! * inv;
  }
  return y;
}

/** SiLU(x) = x · sigmoid(x). */
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/**
 * The error function to near double precision: its Maclaurin series for
 * |x| < 3, the continued fraction of erfc beyond.
 */
export function erf(x: number): number {
  if (x < 0) return -erf(-x);
  if (x < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
  let f = x;
  for (let k = 80; k >= 1; k--) f = x + k / 2 / f;
  return 1 - Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** Exact GELU: x · Φ(x). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** rotate_half(x) = [−x[n/2:], x[:n/2]]. */
export function rotateHalf(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const h = n / 2;
  const y = new Float64Array(n);
  for (let i = 0; i < h; i++) {
    y[i] = -x[h + i]!;
    y[h + i] = x[i]!;
  }
  return y;
}

/** RoPE: x ⊙ cos(a) + rotate_half(x) ⊙ sin(a). */
export function rope(x: ArrayLike<number>, angles: ArrayLike<number>): Float64Array {
  const r = rotateHalf(x);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i]! * Math.cos(angles[i]!) + r[i]! * Math.sin(angles[i]!);
  return y;
}

/** Softmax of the entries where `allowed[i]`; the rest (and an all-masked row) get 0. */
export function maskedSoftmax(scores: ArrayLike<number>, allowed: ArrayLike<boolean>): Float64Array {
  const p = new Float64Array(scores.length);
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (allowed[i]) max = Math.max(max, scores[i]!);
  if (max === -Infinity) return p;
  let total = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!allowed[i]) continue;
    p[i] = Math.exp(scores[i]! - max);
    total += p[i]!;
  }
  for (let i = 0; i < scores.length; i++) p[i]! /= total;
  return p;
}

/**
 * Multi-head attention over one sequence. q is [T, nq·d], k and v are
 * [S, nkv·d] (already rotated); query head h reads key/value head ⌊h/(nq/nkv)⌋.
 * @returns the concatenated head outputs [T, nq·d] and the patterns [nq][T·S]
 */
export function attention(
  q: Float64Array, k: Float64Array, v: Float64Array,
  t: number, s: number, nq: number, nkv: number, d: number,
  allowed: (query: number, key: number) => boolean,
): { out: Float64Array; patterns: Float64Array[] } {
  const group = nq / nkv;
  const out = new Float64Array(t * nq * d);
  const patterns: Float64Array[] = [];
  const scale = 1 / Math.sqrt(d);
  for (let h = 0; h < nq; h++) {
    const kh = Math.floor(h / group);
    const pattern = new Float64Array(t * s);
    for (let i = 0; i < t; i++) {
      const scores = new Float64Array(s);
      const mask: boolean[] = [];
      for (let j = 0; j < s; j++) {
        let dot = 0;
        for (let e = 0; e < d; e++) dot += q[i * nq * d + h * d + e]! * k[j * nkv * d + kh * d + e]!;
        scores[j] = dot * scale;
        mask.push(allowed(i, j));
      }
      const p = maskedSoftmax(scores, mask);
      pattern.set(p, i * s);
      for (let j = 0; j < s; j++) {
        if (p[j] === 0) continue;
        for (let e = 0; e < d; e++) out[i * nq * d + h * d + e]! += p[j]! * v[j * nkv * d + kh * d + e]!;
      }
    }
    patterns.push(pattern);
  }
  return { out, patterns };
}

/** Rotates every head of every row of x ([rows, heads·d]) with that row's angle vector (length d). */
export function ropeRows(x: Float64Array, rows: number, heads: number, d: number, angles: (row: number) => ArrayLike<number>): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const a = angles(r);
    for (let h = 0; h < heads; h++) {
      const off = r * heads * d + h * d;
      y.set(rope(x.subarray(off, off + d), a), off);
    }
  }
  return y;
}
