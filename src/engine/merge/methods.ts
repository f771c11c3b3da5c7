/**
 * Per-tensor merge arithmetic on flattened float32 tensors, with mergekit's
 * semantics (docs/merging.md gives the formulas). Every element is computed
 * in float64 from float32 inputs and rounded to float32 once when stored;
 * task vectors are stored (rounded) as float32, as mergekit holds them in the
 * tensors' dtype. All functions are deterministic.
 */
import { createHash } from 'node:crypto';

function sameLength(arrays: readonly Float32Array[], what: string): number {
  const n = arrays[0]!.length;
  for (const a of arrays) if (a.length !== n) throw new RangeError(`${what}: tensors have ${n} and ${a.length} elements`);
  return n;
}

/** (1 - t) * a + t * b, element-wise. */
export function lerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  const n = sameLength([a, b], 'lerp');
  const out = new Float32Array(n);
  const s = 1 - t;
  for (let i = 0; i < n; i++) out[i] = s * a[i]! + t * b[i]!;
  return out;
}

/** sum_i w_i x_i, divided by sum_i w_i when `normalize` (mergekit `linear`). */
export function linearCombination(xs: readonly Float32Array[], weights: readonly number[], normalize: boolean): Float32Array {
  const n = sameLength(xs, 'linear');
  let total = 0;
  for (const w of weights) total += w;
  if (normalize && total === 0) throw new RangeError(`'weights' sum to 0, so normalize cannot divide by them`);
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += weights[i]! * xs[i]![j]!;
    out[j] = normalize ? s / total : s;
  }
  return out;
}

/** x - base, stored as float32 (a task vector). */
export function taskVector(x: Float32Array, base: Float32Array): Float32Array {
  const n = sameLength([x, base], 'task vector');
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = x[i]! - base[i]!;
  return out;
}

/** The k-th largest value (k >= 1) of `values`, which it reorders (quickselect). */
function kthLargest(values: Float32Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const a = values[lo]!;
    const b = values[mid]!;
    const c = values[hi]!;
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c)); // median of three
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! > pivot) i++;
      while (values[j]! < pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target]!;
  }
  return values[target]!;
}

/**
 * TIES trim (mergekit `magnitude`): keeps the k = floor(density * n) entries of
 * largest magnitude and zeroes the rest; among equal magnitudes the lower
 * index is kept. density >= 1 returns `delta` itself; k = 0 zeroes everything.
 */
export function magnitudeTrim(delta: Float32Array, density: number): Float32Array {
  if (density >= 1) return delta;
  const n = delta.length;
  const k = Math.floor(density * n);
  const out = new Float32Array(n);
  if (k === 0) return out;
  const mags = new Float32Array(n);
  for (let i = 0; i < n; i++) mags[i] = Math.abs(delta[i]!);
  const threshold = kthLargest(mags, k);
  let above = 0;
  for (let i = 0; i < n; i++) if (Math.abs(delta[i]!) > threshold) above++;
  let tiesLeft = k - above;
  for (let i = 0; i < n; i++) {
    const m = Math.abs(delta[i]!);
    if (m > threshold || (m === threshold && tiesLeft-- > 0)) out[i] = delta[i]!;
  }
  return out;
}

/**
 * DARE drop (mergekit `random`): keeps each entry with probability `density`
 * (draw u < density), dividing kept entries by density when `rescale`.
 * density >= 1 returns `delta` itself.
 */
export function randomDrop(delta: Float32Array, density: number, rescale: boolean, uniform: () => number): Float32Array {
  if (density >= 1) return delta;
  const out = new Float32Array(delta.length);
  for (let i = 0; i < delta.length; i++) {
    if (uniform() < density) out[i] = rescale ? delta[i]! / density : delta[i]!;
  }
  return out;
}

/**
 * A uniform [0, 1) stream (sfc32) seeded by sha256 of (seed, tensor name,
 * model position), so a DARE mask depends only on those three.
 */
export function dareStream(seed: number, tensorName: string, modelIndex: number): () => number {
  const digest = createHash('sha256').update(`frankenscope-dare-v1|${seed}|${modelIndex}|${tensorName}`, 'utf8').digest();
  let a = digest.readUInt32LE(0);
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12) | 1;
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next();
  return () => next() / 4294967296;
}

/** Options of {@link combineTaskVectors}. */
export interface CombineOptions {
  base: Float32Array;
  /** task vectors, already sparsified */
  deltas: readonly Float32Array[];
  weights: readonly number[];
  /** TIES sign election ("sum" method) and disjoint mean */
  consensus: boolean;
  normalize: boolean;
  lambda: number;
}

/**
 * base + lambda * mixed (mergekit's generalized task arithmetic). With w_i d_i
 * the weighted deltas: without consensus mixed = sum_i w_i d_i, divided by
 * sum_i w_i when normalizing (a divisor below 1e-8 in magnitude becomes 1).
 * With consensus, per element the elected sign is + if sum_i w_i d_i >= 0
 * else -, only terms whose sign equals it count (a zero term has no sign),
 * and the divisor is the sum of their weights (0 becomes 1).
 */
export function combineTaskVectors(o: CombineOptions): Float32Array {
  const n = sameLength([o.base, ...o.deltas], 'task vectors');
  const m = o.deltas.length;
  let weightSum = 0;
  for (const w of o.weights) weightSum += w;
  const plainDivisor = Math.abs(weightSum) < 1e-8 ? 1 : weightSum;
  const out = new Float32Array(n);
  const wd = new Float64Array(m);
  for (let j = 0; j < n; j++) {
    let mixed = 0;
    let divisor = plainDivisor;
    if (o.consensus) {
      let total = 0;
      for (let i = 0; i < m; i++) {
        wd[i] = o.weights[i]! * o.deltas[i]![j]!;
        total += wd[i]!;
      }
      const elected = total >= 0 ? 1 : -1;
      divisor = 0;
      for (let i = 0; i < m; i++) {
        if (Math.sign(wd[i]!) === elected) {
          mixed += wd[i]!;
          divisor += o.weights[i]!;
        }
      }
      if (divisor === 0) divisor = 1;
    } else {
      for (let i = 0; i < m; i++) mixed += o.weights[i]! * o.deltas[i]![j]!;
    }
    if (o.normalize) mixed /= divisor;
    out[j] = o.base[j]! + o.lambda * mixed;
  }
  return out;
}

/**
 * Spherical interpolation of two whole tensors seen as vectors (mergekit
 * `slerp`): with cos = <a, b> / (|a| |b|) and theta = acos(cos),
 * sin((1 - t) theta) / sin(theta) * a + sin(t theta) / sin(theta) * b.
 * Falls back to {@link lerp} when |cos| > dotThreshold or a norm is <= eps.
 */
export function slerp(a: Float32Array, b: Float32Array, t: number, dotThreshold: number, eps = 1e-8): Float32Array {
  const n = sameLength([a, b], 'slerp');
  let aa = 0;
  let bb = 0;
  let ab = 0;
  for (let i = 0; i < n; i++) {
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
    ab += a[i]! * b[i]!;
  }
  const na = Math.sqrt(aa);
  const nb = Math.sqrt(bb);
  if (na <= eps || nb <= eps) return lerp(a, b, t);
  const cos = ab / (na * nb);
  if (Math.abs(cos) > dotThreshold) return lerp(a, b, t);
  const theta = Math.acos(Math.min(1, Math.max(-1, cos)));
  const sinTheta = Math.sin(theta);
  const s0 = Math.sin(theta - theta * t) / sinTheta;
  const s1 = Math.sin(theta * t) / sinTheta;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = s0 * a[i]! + s1 * b[i]!;
  return out;
}
