import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsToNumber,
  fromFloat32,
  halfBitsToNumber,
  numberToBfloat16Bits,
  numberToHalfBits,
  toFloat32,
} from '../../src/engine/checkpoint/dtypes.js';

/** float32 bits <-> value, used to step to the adjacent float32. */
function f32FromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits >>> 0]).buffer)[0]!;
}
function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]!;
}
function u16Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  values.forEach((v, i) => {
    out[2 * i] = v & 0xff;
    out[2 * i + 1] = v >> 8;
  });
  return out;
}

// Reference values computed independently with numpy (float16) and exact rational arithmetic (bfloat16).
describe('float16 decoding', () => {
  it('decodes known bit patterns, including subnormals, infinities, NaN and negative zero', () => {
    const cases: [number, number][] = [
      [0x0001, 5.960464477539063e-8],
      [0x03ff, 6.097555160522461e-5],
      [0x0400, 6.103515625e-5],
      [0x3c00, 1],
      [0x3555, 0.333251953125],
      [0x2e66, 0.0999755859375],
      [0x7bff, 65504],
      [0xc000, -2],
      [0x8001, -5.960464477539063e-8],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    const decoded = toFloat32(u16Bytes([...cases.map((c) => c[0]), 0x7e00, 0x8000]), 'F16');
    cases.forEach(([, v], i) => expect(decoded[i]).toBe(v));
    expect(Number.isNaN(decoded[cases.length])).toBe(true);
    expect(Object.is(decoded[cases.length + 1], -0)).toBe(true);
  });

  it('is strictly increasing over all positive finite patterns', () => {
    for (let h = 1; h < 0x7c00; h++) expect(halfBitsToNumber(h) > halfBitsToNumber(h - 1)).toBe(true);
  });
});

describe('float16 encoding (round to nearest even)', () => {
  it('matches numpy on ties, overflow, subnormals and signed zero', () => {
    const cases: [number, number][] = [
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [1 + 2 ** -11 + 2 ** -20, 0x3c01],
      [65504, 0x7bff],
      [65519, 0x7bff],
      [65520, 0x7c00],
      [1e6, 0x7c00],
      [2 ** -25, 0x0000],
      [2 ** -25 * (1 + 2 ** -23), 0x0001],
      [3 * 2 ** -25, 0x0002],
      [5 * 2 ** -26, 0x0001],
      [2 ** -24, 0x0001],
      [1023.5 * 2 ** -24, 0x0400],
      [-0, 0x8000],
      [1e-10, 0x0000],
      [-1e-10, 0x8000],
      [1e-40, 0x0000],
      [0.1, 0x2e66],
      [-1 / 3, 0xb555],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
    ];
    for (const [x, bits] of cases) expect([x, numberToHalfBits(x)]).toEqual([x, bits]);
    const nan = numberToHalfBits(NaN);
    expect((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0).toBe(true);
  });

  it('round-trips every non-NaN pattern and rounds every midpoint to the even neighbour', () => {
    const failures: string[] = [];
    const check = (x: number, got: number, want: number) => {
      if (got !== want) failures.push(`${x} -> ${got.toString(16)}, want ${want.toString(16)}`);
    };
    for (let h = 0; h < 0x7c00; h++) {
      check(halfBitsToNumber(h), numberToHalfBits(halfBitsToNumber(h)), h);
      check(-halfBitsToNumber(h), numberToHalfBits(halfBitsToNumber(h | 0x8000)), h | 0x8000);
      const lo = halfBitsToNumber(h);
      const hi = h + 1 === 0x7c00 ? 65536 : halfBitsToNumber(h + 1); // 65536 is where rounding up overflows
      const mid = (lo + hi) / 2; // exact in float32 (12 significant bits)
      check(mid, numberToHalfBits(mid), h % 2 === 0 ? h : h + 1);
      check(mid, numberToHalfBits(f32FromBits(f32Bits(mid) - 1)), h);
      check(mid, numberToHalfBits(f32FromBits(f32Bits(mid) + 1)), h + 1);
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });
});

describe('bfloat16', () => {
  it('encodes known values like an exact nearest-even reference', () => {
    const cases: [number, number][] = [
      [1, 0x3f80],
      [-2, 0xc000],
      [1 + 2 ** -8, 0x3f80],
      [1 + 3 * 2 ** -8, 0x3f82],
      [1 + 2 ** -8 + 2 ** -20, 0x3f81],
      [3.4028234663852886e38, 0x7f80],
      [3.3895313892515355e38, 0x7f7f],
      [-0, 0x8000],
      [1e-40, 0x0001],
      [0.1, 0x3dcd],
      [-1 / 3, 0xbeab],
      [Math.PI, 0x4049],
      [Infinity, 0x7f80],
      [-Infinity, 0xff80],
    ];
    for (const [x, bits] of cases) expect([x, numberToBfloat16Bits(x)]).toEqual([x, bits]);
    expect(Number.isNaN(bfloat16BitsToNumber(numberToBfloat16Bits(NaN)))).toBe(true);
  });

  it('round-trips every non-NaN pattern and rounds every midpoint to the even neighbour', () => {
    const failures: string[] = [];
    const check = (x: number, got: number, want: number) => {
      if (got !== want) failures.push(`${x} -> ${got.toString(16)}, want ${want.toString(16)}`);
    };
    for (let b = 0; b < 0x7f80; b++) {
      check(bfloat16BitsToNumber(b), numberToBfloat16Bits(bfloat16BitsToNumber(b)), b);
      if (b + 1 === 0x7f80) continue; // the midpoint to 2^128 is not a float32
      const mid = (bfloat16BitsToNumber(b) + bfloat16BitsToNumber(b + 1)) / 2; // exact in float32
      check(mid, numberToBfloat16Bits(mid), b % 2 === 0 ? b : b + 1);
      check(mid, numberToBfloat16Bits(f32FromBits(f32Bits(mid) - 1)), b);
      check(mid, numberToBfloat16Bits(f32FromBits(f32Bits(mid) + 1)), b + 1);
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });
});

describe('toFloat32 / fromFloat32', () => {
  const values = new Float32Array([0, -0, 1, -2.5, 0.1, 65504, 1e-7, -3e38, Infinity, -Infinity, NaN, 2 ** -24]);

  it('F32 and BF16/F16 bulk paths agree with the scalar encoders', () => {
    for (const [dtype, enc] of [['F16', numberToHalfBits], ['BF16', numberToBfloat16Bits]] as const) {
      const bytes = fromFloat32(values, dtype);
      const dv = new DataView(bytes.buffer);
      values.forEach((v, i) => {
        const got = dv.getUint16(2 * i, true);
        if (Number.isNaN(v)) expect(Number.isNaN(dtype === 'F16' ? halfBitsToNumber(got) : bfloat16BitsToNumber(got))).toBe(true);
        else expect(got).toBe(enc(v));
      });
    }
    const back = toFloat32(fromFloat32(values, 'F32'), 'F32');
    values.forEach((v, i) => expect(Object.is(back[i], v) || (Number.isNaN(v) && Number.isNaN(back[i]!))).toBe(true));
  });

  it('reads little-endian F64 with float32 rounding, and unaligned F16/F32 views', () => {
    const f64 = new Uint8Array(24);
    const dv = new DataView(f64.buffer);
    [0.1, -1e300, 2 ** -149].forEach((v, i) => dv.setFloat64(8 * i, v, true));
    expect([...toFloat32(f64, 'F64')]).toEqual([Math.fround(0.1), -Infinity, 2 ** -149]);
    const shifted = new Uint8Array(9);
    shifted.set(fromFloat32(new Float32Array([1.5, -4]), 'F32'), 1);
    expect([...toFloat32(shifted.subarray(1), 'F32')]).toEqual([1.5, -4]);
    const shifted16 = new Uint8Array(5);
    shifted16.set(u16Bytes([0x3c00, 0xc000]), 1);
    expect([...toFloat32(shifted16.subarray(1), 'F16')]).toEqual([1, -2]);
  });

  it('rejects integer dtypes and ragged byte lengths', () => {
    expect(() => toFloat32(new Uint8Array(4), 'I32')).toThrow(TypeError);
    expect(() => toFloat32(new Uint8Array(3), 'F16')).toThrow(/multiple of the F16 size/);
  });
});
