/** Result of {@link makeReflector}. */
export interface Reflector {
  /** `H = I - tau v v^T`; 0 means H is the identity. */
  tau: number;
  /** the value `x` is mapped to: `H x = beta e_1`. */
  beta: number;
}

/**
 * Builds an elementary reflector `H = I - tau v v^T` with `v[0] = 1` such
 * that `H x = beta e_1`, for `x = data[offset .. offset + len)`. On return
 * `data[offset + 1 .. offset + len)` holds `v[1..]` (the implicit `v[0] = 1`
 * is not stored) and `data[offset]` is left unchanged for the caller.
 *
 * The sign of beta is chosen opposite to `x[0]` so that `x[0] - beta` never
 * cancels.
 */
export function makeReflector(data: Float64Array, offset: number, len: number): Reflector {
  const alpha = data[offset];
  let ssq = 0;
  for (let i = 1; i < len; i++) {
    const t = data[offset + i];
    ssq += t * t;
  }
  if (ssq === 0) return { tau: 0, beta: alpha };
  const norm = Math.sqrt(alpha * alpha + ssq);
  const beta = alpha >= 0 ? -norm : norm;
  const scale = 1 / (alpha - beta);
  for (let i = 1; i < len; i++) data[offset + i] *= scale;
  return { tau: (beta - alpha) / beta, beta };
}
