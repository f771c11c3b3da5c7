/**
 * Per-tensor update metrics of METHOD.md section 2, from a delta matrix's
 * singular spectrum. The constants (1e-8, 1e-12) are the reference's, so our
 * numbers line up with its tables.
 */

/** Every metric of one delta (dSFT or dRL) of one tensor. */
export interface UpdateStats {
  froNorm: number;
  relativeNorm: number;
  spectralNorm: number;
  nuclearNorm: number;
  stableRank: number;
  effectiveRank: number;
  conditionNumber: number;
  logVolume: number;
  /** the top-k singular values, descending */
  singularValues: number[];
}

/** Sum of squares in float64, whatever the storage precision. */
export function sumOfSquares(a: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  const n = a.length;
  let i = 0;
  // two accumulators halve the dependency chain of the loop
  for (; i + 1 < n; i += 2) {
    s0 += a[i]! * a[i]!;
    s1 += a[i + 1]! * a[i + 1]!;
  }
  if (i < n) s0 += a[i]! * a[i]!;
  return s0 + s1;
}

/** <a, b> in float64. */
export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`dot: lengths differ (${a.length} vs ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Cosine of two flattened deltas; null when either is zero (the angle is undefined). */
export function cosine(a: Float32Array, b: Float32Array, normA: number, normB: number): number | null {
  if (normA === 0 || normB === 0) return null;
  return dot(a, b) / (normA * normB);
}

/** exp of the Shannon entropy of the normalised singular values above 1e-12; 0 for a zero matrix. */
export function effectiveRank(values: Float64Array): number {
  let total = 0;
  for (const s of values) if (s > 1e-12) total += s;
  if (total === 0) return 0;
  let h = 0;
  for (const s of values) {
    if (s > 1e-12) {
      const p = s / total;
      h -= p * Math.log(p);
    }
  }
  return Math.exp(h);
}

/**
 * All metrics of one delta.
 * @param values every singular value of the delta, descending
 * @param froNorm ||delta||_F computed from the entries (not from the spectrum)
 * @param referenceNorm ||W_IN||_F, the denominator of the relative norm
 * @param topK how many leading values enter the log volume and the returned list
 */
export function updateStats(values: Float64Array, froNorm: number, referenceNorm: number, topK: number): UpdateStats {
  const s1 = values.length > 0 ? values[0]! : 0;
  const sMin = values.length > 0 ? values[values.length - 1]! : 0;
  let nuclear = 0;
  for (const s of values) nuclear += s;
  const k = Math.min(topK, values.length);
  let logVolume = 0;
  for (let i = 0; i < k; i++) logVolume += Math.log(values[i]! + 1e-12);
  return {
    froNorm,
    relativeNorm: froNorm / (referenceNorm + 1e-8),
    spectralNorm: s1,
    nuclearNorm: nuclear,
    stableRank: (froNorm * froNorm) / (s1 * s1 + 1e-12),
    effectiveRank: effectiveRank(values),
    conditionNumber: s1 / (sMin + 1e-12),
    logVolume,
    singularValues: Array.from(values.subarray(0, k)),
  };
}

/**
 * Overlap of two leading left singular subspaces: ||U_a^T U_b||_F^2 / k, the
 * mean squared cosine of their principal angles (1 = same subspace, 0 =
 * orthogonal). k is the smaller of the two subspaces' sizes; null if either is empty.
 * @param a column-major rows x ka orthonormal basis
 * @param b column-major rows x kb orthonormal basis
 */
export function subspaceOverlap(a: Float64Array, ka: number, b: Float64Array, kb: number, rows: number): number | null {
  const k = Math.min(ka, kb);
  if (k === 0) return null;
  let sum = 0;
  for (let i = 0; i < ka; i++) {
    const ui = a.subarray(i * rows, (i + 1) * rows);
    for (let j = 0; j < kb; j++) {
      const vj = b.subarray(j * rows, (j + 1) * rows);
      let d = 0;
      for (let r = 0; r < rows; r++) d += ui[r]! * vj[r]!;
      sum += d * d;
    }
  }
  return sum / k;
}
