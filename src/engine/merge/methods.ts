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

/** Bits of |x| as float32: for non-negative floats, the order of the bits is the order of the values. */
const magnitudeBits = (() => {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  return (x: number): number => {
    f[0] = x;
    return u[0]! & 0x7fffffff;
  };
})();

/**
 * The statistics TIES trimming needs of a whole task vector, gathered from
 * its elements in index order in any number of pieces (so a tensor larger
 * than memory is trimmed piece by piece exactly as whole): the magnitude of
 * the k-th largest entry, found exactly by two histograms of its float32 bits
 * (high 16 bits, then low 16 bits within the bin that holds it), then how
 * many entries lie strictly above it and how many equal it before each row
 * (pieces are whole rows of `rowWidth` elements).
 */
export class TrimThreshold {
  readonly k: number;
  #high: Float64Array = new Float64Array(65536);
  #low: Float64Array = new Float64Array(65536);
  #bin = -1;
  /** bits of the k-th largest magnitude, once found */
  #bits = -1;
  #above = 0;
  #stage: 'high' | 'low' | 'ties' | 'done' = 'high';
  /** ties in the rows before each row (filled by the third pass) */
  readonly #tiesBefore: number[] = [];
  #ties = 0;

  constructor(
    readonly n: number,
    density: number,
    readonly rowWidth = n,
  ) {
    this.k = Math.floor(density * n);
  }

  /** The passes over the whole vector still needed (0 when density keeps or drops everything). */
  get passes(): number {
    return this.k === 0 || this.k >= this.n ? 0 : 3;
  }

  /** Feeds the next piece of the vector (pieces in index order; each pass feeds every piece once). */
  feed(delta: Float32Array): void {
    if (this.#stage === 'high') {
      for (let i = 0; i < delta.length; i++) this.#high[magnitudeBits(delta[i]!) >>> 16]!++;
    } else if (this.#stage === 'low') {
      for (let i = 0; i < delta.length; i++) {
        const b = magnitudeBits(delta[i]!);
        if (b >>> 16 === this.#bin) this.#low[b & 0xffff]!++;
      }
    } else if (this.#stage === 'ties') {
      for (let i = 0; i < delta.length; i++) {
        if (i % this.rowWidth === 0) this.#tiesBefore.push(this.#ties);
        if (magnitudeBits(delta[i]!) === this.#bits) this.#ties++;
      }
    }
  }

  /** Ends a pass over the whole vector. */
  endPass(): void {
    if (this.#stage === 'high') {
      let seen = 0;
      for (let b = 65535; b >= 0; b--) {
        if (seen + this.#high[b]! >= this.k) {
          this.#bin = b;
          break;
        }
        seen += this.#high[b]!;
      }
      this.#above = seen;
      this.#stage = 'low';
    } else if (this.#stage === 'low') {
      let seen = this.#above;
      for (let l = 65535; l >= 0; l--) {
        if (seen + this.#low[l]! >= this.k) {
          this.#bits = (this.#bin << 16) | l;
          break;
        }
        seen += this.#low[l]!;
      }
      this.#above = seen;
      this.#stage = 'ties';
    } else if (this.#stage === 'ties') {
      this.#stage = 'done';
      // the histograms are 1 MB; only the threshold and the tie counts are needed from here on
      this.#high = this.#low = new Float64Array(0);
    }
  }

  /**
   * The rows from `firstRow` on (as many as `delta` holds) of the trimmed
   * vector: entries above the threshold kept, entries equal to it kept while
   * fewer than k are kept (lower index first), the rest zero.
   */
  apply(delta: Float32Array, firstRow: number): Float32Array {
    if (this.k >= this.n) return delta;
    const out = new Float32Array(delta.length);
    if (this.k === 0) return out;
    if (this.#stage !== 'done') throw new Error('TrimThreshold.apply before its three passes');
    let tiesLeft = this.k - this.#above - this.#tiesBefore[firstRow]!;
    for (let i = 0; i < delta.length; i++) {
      const b = magnitudeBits(delta[i]!);
      if (b > this.#bits || (b === this.#bits && tiesLeft-- > 0)) out[i] = delta[i]!;
    }
    return out;
  }
}

/**
 * TIES trim (mergekit `magnitude`): keeps the k = floor(density * n) entries of
 * largest magnitude and zeroes the rest; among equal magnitudes the lower
 * index is kept. density >= 1 returns `delta` itself; k = 0 zeroes everything.
 */
export function magnitudeTrim(delta: Float32Array, density: number): Float32Array {
  if (density >= 1) return delta;
  const trim = new TrimThreshold(delta.length, density);
  for (let pass = 0; pass < trim.passes; pass++) {
    trim.feed(delta);
    trim.endPass();
  }
  return trim.apply(delta, 0);
}

/**
 * DARE drop (mergekit `random`): keeps entry i with probability `density`
 * (draw uniform(first + i) < density), dividing kept entries by density when
 * `rescale`. The draws are indexed, so a piece of a tensor (`first` its
 * first index) drops what the whole tensor drops there. density >= 1
 * returns `delta` itself.
 */
export function randomDrop(delta: Float32Array, density: number, rescale: boolean, uniform: (index: number) => number, first = 0): Float32Array {
  if (density >= 1) return delta;
  const out = new Float32Array(delta.length);
  for (let i = 0; i < delta.length; i++) {
    if (uniform(first + i) < density) out[i] = rescale ? delta[i]! / density : delta[i]!;
  }
  return out;
}

/**
 * Uniform [0, 1) draws indexed by element, keyed by sha256 of (seed, tensor
 * name, model position), so a DARE mask depends only on those three and any
 * element's draw is computed alone: two rounds of a 32-bit integer hash
 * (murmur3's finalizer) over the index and the key.
 */
export function dareUniform(seed: number, tensorName: string, modelIndex: number): (index: number) => number {
  const digest = createHash('sha256').update(`frankenscope-dare-v2|${seed}|${modelIndex}|${tensorName}`, 'utf8').digest();
  const k0 = digest.readUInt32LE(0);
  const k1 = digest.readUInt32LE(4);
  const k2 = digest.readUInt32LE(8);
  const fmix = (h: number): number => {
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  return (index: number): number => {
    const lo = index >>> 0;
    const hi = Math.floor(index / 4294967296) >>> 0;
    const h = fmix((fmix((lo ^ k0) >>> 0) + Math.imul(hi ^ k1, 0x9e3779b1)) ^ k2);
    return h / 4294967296;
  };
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

/** Sums SLERP needs of two whole tensors, accumulated in float64 in index order (pieces in order give the same sums). */
export interface SlerpSums {
  aa: number;
  bb: number;
  ab: number;
}

/** Adds the next piece of the two tensors to `sums`. */
export function addSlerpSums(sums: SlerpSums, a: Float32Array, b: Float32Array): void {
  sameLength([a, b], 'slerp');
  let { aa, bb, ab } = sums;
  for (let i = 0; i < a.length; i++) {
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
    ab += a[i]! * b[i]!;
  }
  Object.assign(sums, { aa, bb, ab });
}

/**
 * The coefficients of a and b from the whole tensors' sums: with
 * cos = <a, b> / (|a| |b|) and theta = acos(cos), sin((1 - t) theta) /
 * sin(theta) and sin(t theta) / sin(theta); those of {@link lerp}, 1 - t and
 * t (`lerp: true`), when |cos| > dotThreshold or a norm is <= eps.
 */
export function slerpCoefficients(sums: SlerpSums, t: number, dotThreshold: number, eps = 1e-8): { lerp: boolean; s0: number; s1: number } {
  const na = Math.sqrt(sums.aa);
  const nb = Math.sqrt(sums.bb);
  if (na <= eps || nb <= eps) return { lerp: true, s0: 1 - t, s1: t };
  const cos = sums.ab / (na * nb);
  if (Math.abs(cos) > dotThreshold) return { lerp: true, s0: 1 - t, s1: t };
  const theta = Math.acos(Math.min(1, Math.max(-1, cos)));
  const sinTheta = Math.sin(theta);
  return { lerp: false, s0: Math.sin(theta - theta * t) / sinTheta, s1: Math.sin(theta * t) / sinTheta };
}

/** A piece of the SLERP of two tensors, given the whole tensors' coefficients. */
export function slerpPiece(a: Float32Array, b: Float32Array, t: number, c: { lerp: boolean; s0: number; s1: number }): Float32Array {
  if (c.lerp) return lerp(a, b, t);
  const n = sameLength([a, b], 'slerp');
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = c.s0 * a[i]! + c.s1 * b[i]!;
  return out;
}

/**
 * Spherical interpolation of two whole tensors seen as vectors (mergekit
 * `slerp`): with cos = <a, b> / (|a| |b|) and theta = acos(cos),
 * sin((1 - t) theta) / sin(theta) * a + sin(t theta) / sin(theta) * b.
 * Falls back to {@link lerp} when |cos| > dotThreshold or a norm is <= eps.
 */
export function slerp(a: Float32Array, b: Float32Array, t: number, dotThreshold: number, eps = 1e-8): Float32Array {
  const sums = { aa: 0, bb: 0, ab: 0 };
  addSlerpSums(sums, a, b);
  return slerpPiece(a, b, t, slerpCoefficients(sums, t, dotThreshold, eps));
}
