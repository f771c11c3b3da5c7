/**
 * Float32 arrays whose memory is reused for the next tensor read of the same
 * length, one pool per thread.
 *
 * Why: a fresh array of a widened layer's size is memory the kernel maps and
 * zeroes page by page on first touch. Measured on a 3B MLP weight (22.5 M
 * elements, BF16 read from the page cache): 70-90 ms to read and widen into
 * a new array, 30 ms into one already touched. Under a weight budget smaller
 * than the model every layer is read again on every pass, so the weight
 * cache hands the arrays of layers it dropped (and no one still uses) back
 * here, and the next read of the same shape lands in memory already mapped.
 *
 * Only {@link readAsFloat32} takes from the pool: it overwrites every element,
 * so what a recycled array held never shows.
 */

/** Arrays smaller than this are cheap to allocate and are not pooled. */
const MIN_POOLED_BYTES = 1 << 20;

/** pooled arrays, oldest first (the pool holds at most a layer's worth, a few dozen arrays) */
let pooled: Float32Array[] = [];
let pooledBytes = 0;
let reuses = 0;

/** A float32 array of `n` elements for the caller to overwrite whole: the newest pooled one of that length, else a new one. */
export function takeFloat32(n: number): Float32Array {
  let at = pooled.length - 1;
  while (at >= 0 && pooled[at]!.length !== n) at--;
  if (at < 0) return new Float32Array(n);
  const [reused] = pooled.splice(at, 1);
  pooledBytes -= reused!.byteLength;
  reuses++;
  return reused!;
}

/**
 * Gives arrays no one uses any more back for reuse. The pool holds at most
 * `capBytes`: past it the arrays given back longest ago go first, since the
 * next reads are most like the last ones dropped (a pass reads the layers it
 * dropped the pass before). An array that is a view of a larger buffer is
 * never pooled (the rest of its buffer may be in use).
 */
export function recycleFloat32(arrays: Iterable<Float32Array>, capBytes: number): void {
  for (const a of arrays) {
    if (a.byteLength < MIN_POOLED_BYTES || a.byteLength > capBytes || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) continue;
    if (pooled.includes(a)) continue;
    while (pooledBytes + a.byteLength > capBytes) pooledBytes -= pooled.shift()!.byteLength;
    pooled.push(a);
    pooledBytes += a.byteLength;
  }
}

/** Bytes held by the pool now, and how many arrays reads have reused so far (diagnostics, tests). */
export function float32PoolStats(): { bytes: number; reuses: number } {
  return { bytes: pooledBytes, reuses };
}

/** Lets the pool's memory go (the thread has no weights left to read). */
export function clearFloat32Pool(): void {
  pooled = [];
  pooledBytes = 0;
}
