/**
 * Widening in place (readAsFloat32) gives exactly what converting a separate
 * raw copy gives, for every 16-bit pattern layout, also when a large tensor
 * is read in pieces widened while the next is read.
 */
import { describe, expect, it } from 'vitest';
import { readAsFloat32, toFloat32 } from '../../src/engine/checkpoint/dtypes.js';

function randomBytes(n: number, seed: number): Uint8Array {
  let x = seed;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

/** Index of the first differing 32-bit pattern, -1 when none (toEqual on millions of elements takes tens of seconds). */
function firstDifference(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('readAsFloat32', () => {
  for (const dtype of ['BF16', 'F16', 'F32'] as const) {
    // the last two: three pieces of 4 M elements, the last one short, odd and even
    for (const n of [1, 2, 7, 1000, 4097, ...(dtype === 'F32' ? [] : [2 * (1 << 22) + 3, 2 * (1 << 22) + 1000])]) {
      it(`${dtype}, ${n} elements`, async () => {
        const raw = randomBytes(n * (dtype === 'F32' ? 4 : 2), n + 1);
        let covered = 0;
        const widened = await readAsFloat32(n, dtype, async (target, at) => {
          // pieces in order, each read once, the whole tensor in the end
          expect(at).toBe(covered);
          covered += target.byteLength;
          // what a file read does: the bytes arrive later
          await new Promise((r) => setImmediate(r));
          target.set(raw.subarray(at, at + target.byteLength));
        });
        expect(covered).toBe(raw.byteLength);
        expect(widened.length).toBe(n);
        // bit patterns, so NaN payloads count too
        expect(firstDifference(new Uint32Array(widened.buffer, widened.byteOffset, n), new Uint32Array(toFloat32(raw.slice(), dtype).buffer, 0, n))).toBe(-1);
      });
    }
  }
});
