/** Plain row-major tensors passed between the runtime, hooks and analyses. */

/** A dense row-major tensor. */
export interface Tensor {
  data: Float32Array | BigInt64Array;
  dims: readonly number[];
}

/** A dense row-major float32 tensor. */
export interface F32Tensor {
  data: Float32Array;
  dims: readonly number[];
}

/** Number of elements of a shape. */
export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Elementwise a + b in float32 (the same rounding as onnxruntime's Add). */
export function addF32(a: Float32Array, b: Float32Array): Float32Array {
  if (a.length !== b.length) throw new RangeError(`cannot add tensors of ${a.length} and ${b.length} elements`);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return out;
}

/**
 * Concatenates [B, h, S1, d] and [B, h, S2, d] along axis 2 (the KV-cache append).
 */
export function concatSeq(a: F32Tensor, b: F32Tensor): F32Tensor {
  const [B, h, S1, d] = a.dims as [number, number, number, number];
  const S2 = b.dims[2]!;
  if (b.dims[0] !== B || b.dims[1] !== h || b.dims[3] !== d) {
    throw new RangeError(`cannot append keys/values of shape [${b.dims}] to a cache of shape [${a.dims}]`);
  }
  const S = S1 + S2;
  const out = new Float32Array(B * h * S * d);
  for (let bh = 0; bh < B * h; bh++) {
    out.set(a.data.subarray(bh * S1 * d, (bh + 1) * S1 * d), bh * S * d);
    out.set(b.data.subarray(bh * S2 * d, (bh + 1) * S2 * d), bh * S * d + S1 * d);
  }
  return { data: out, dims: [B, h, S, d] };
}
