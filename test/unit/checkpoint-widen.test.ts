/** Widening in place (readAsFloat32) gives exactly what converting a separate raw copy gives, for every 16-bit pattern layout. */
import { describe, expect, it } from 'vitest';
import { readAsFloat32, toFloat32 } from '../../src/engine/checkpoint/dtypes.js';

function randomBytes(n: number, seed: number): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x & 255;
  });
}

describe('readAsFloat32', () => {
  for (const dtype of ['BF16', 'F16', 'F32'] as const) {
    for (const n of [1, 2, 7, 1000, 4097]) {
      it(`${dtype}, ${n} elements`, async () => {
        const raw = randomBytes(n * (dtype === 'F32' ? 4 : 2), n + 1);
        const widened = await readAsFloat32(n, dtype, async (target) => {
          expect(target.byteLength).toBe(raw.byteLength);
          target.set(raw);
        });
        expect(widened.length).toBe(n);
        // bit patterns, so NaN payloads count too
        expect(new Uint32Array(widened.buffer, widened.byteOffset, n)).toEqual(new Uint32Array(toFloat32(raw.slice(), dtype).buffer, 0, n));
      });
    }
  }
});
