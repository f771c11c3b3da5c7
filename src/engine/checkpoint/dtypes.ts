/**
 * Safetensors dtypes and the float conversions frankenscope needs.
 * Conversions to float32 are exact for F16 and BF16 (every such value is a
 * float32); F64 rounds to nearest even. Conversions from float32 to F16/BF16
 * round to nearest even, overflow to infinity and keep NaN a NaN.
 */
import { endianness } from 'node:os';
import { takeFloat32 } from './float32-pool.js';

/** Element size in bytes of every dtype the safetensors format defines (that we accept). */
export const DTYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  F64: 8, I64: 8, U64: 8,
});

/** The dtypes {@link toFloat32} understands. */
export const FLOAT_DTYPES = ['F64', 'F32', 'F16', 'BF16'] as const;
export type FloatDtype = (typeof FLOAT_DTYPES)[number];
/** The dtypes {@link fromFloat32} (and so the writer) produces. */
export type StorableDtype = 'F32' | 'F16' | 'BF16';

/** Whether `dtype` is one of the safetensors dtypes listed in {@link DTYPE_BYTES}. */
export function isKnownDtype(dtype: string): boolean {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype);
}

/** Whether {@link toFloat32} can convert `dtype`. */
export function isFloatDtype(dtype: string): dtype is FloatDtype {
  return (FLOAT_DTYPES as readonly string[]).includes(dtype);
}

// Typed-array views reinterpret memory in host order; safetensors is little-endian.
const HOST_LE = endianness() === 'LE';

let f16Table: Float32Array | undefined;

/** float32 value of every half-precision bit pattern (built once, 256 KiB). */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = halfBitsToNumber(h);
  f16Table = t;
  return t;
}

/** Decodes IEEE 754 binary16 bits. */
export function halfBitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** Decodes bfloat16 bits (the upper half of a float32). */
export function bfloat16BitsToNumber(b: number): number {
  const u32 = new Uint32Array([(b & 0xffff) << 16]);
  return new Float32Array(u32.buffer)[0]!;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** float32 bits of a number after rounding it to float32. */
function float32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0]!;
}

/** Rounds a number to binary16 (nearest even) and returns the bits. */
export function numberToHalfBits(x: number): number {
  const f = float32Bits(x);
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  const mant = f & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127;
  if (e > 15) return sign | 0x7c00;
  if (e >= -14) {
    let h = ((e + 15) << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    // a carry out of the mantissa correctly bumps the exponent (up to infinity)
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
    return sign | h;
  }
  // subnormal half: value = M * 2^(e-23) with M the 24-bit significand; unit is 2^-24
  const shift = -e - 1;
  if (shift > 24 || exp === 0) return sign;
  const m = mant | 0x800000;
  let h = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (h & 1) === 1)) h++;
  return sign | h;
}

/** Rounds a number to bfloat16 (via float32, nearest even) and returns the bits. */
export function numberToBfloat16Bits(x: number): number {
  const f = float32Bits(x);
  if ((f & 0x7f800000) === 0x7f800000 && (f & 0x7fffff) !== 0) return ((f >>> 16) & 0x8000) | 0x7fc0;
  return ((f + 0x7fff + ((f >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Reads `count` little-endian u16 values (fast path: a view when aligned on a LE host). */
function u16View(bytes: Uint8Array, count: number): Uint16Array {
  if (HOST_LE && bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  const out = new Uint16Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) out[i] = dv.getUint16(2 * i, true);
  return out;
}

/**
 * Converts little-endian tensor bytes of a float dtype to float32.
 * @throws TypeError for a non-float dtype, RangeError when the byte length is not a whole number of elements
 */
export function toFloat32(bytes: Uint8Array, dtype: string): Float32Array {
  if (!isFloatDtype(dtype)) throw new TypeError(`dtype '${dtype}' cannot be converted to float32`);
  const size = DTYPE_BYTES[dtype]!;
  if (bytes.byteLength % size !== 0) {
    throw new RangeError(`'bytes' length ${bytes.byteLength} is not a multiple of the ${dtype} size ${size}`);
  }
  const n = bytes.byteLength / size;
  switch (dtype) {
    case 'F32': {
      if (HOST_LE && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Float32Array(n);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    }
    case 'F16': {
      const src = u16View(bytes, n);
      const table = halfTable();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[src[i]!]!;
      return out;
    }
    case 'BF16': {
      const src = u16View(bytes, n);
      const out = new Float32Array(n);
      // Int32 view: src << 16 is an int32, so stores stay on the fast path
      const bits = new Int32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = src[i]! << 16;
      return out;
    }
  }
}

/** Elements widened per read: the next piece is read while this one is widened. */
const PIECE_ELEMENTS = 1 << 22;

/**
 * Reads `n` elements of a float dtype straight into a float32 array:
 * 16-bit values are read into the upper half of the array's own buffer and
 * widened in place front to back (element i's four bytes never reach a
 * source value not yet read), so a tensor costs one allocation of its
 * widened size instead of a raw copy plus the widened one, and none when
 * float32-pool.ts has a dropped array of that length: every element is
 * written, so what a reused array held never shows. A large 16-bit tensor is
 * read in pieces of 4 M elements, each widened while the next one is read
 * (the read runs on libuv's threadpool, the widening here): a 3B MLP weight
 * from the page cache into reused memory took 37 ms against 44 ms read whole
 * then widened. `read(target, at)` fills `target` with the tensor's bytes
 * from byte `at` on.
 */
export async function readAsFloat32(n: number, dtype: string, read: (target: Uint8Array, at: number) => Promise<void>): Promise<Float32Array> {
  if (dtype === 'F32') {
    const out = takeFloat32(n);
    await read(new Uint8Array(out.buffer), 0);
    if (!HOST_LE) return toFloat32(new Uint8Array(out.buffer), 'F32');
    return out;
  }
  if ((dtype !== 'BF16' && dtype !== 'F16') || !HOST_LE) {
    const bytes = new Uint8Array(n * (DTYPE_BYTES[dtype] ?? 4));
    await read(bytes, 0);
    return toFloat32(bytes, dtype);
  }
  const out = takeFloat32(n);
  const raw = new Uint8Array(out.buffer, 2 * n, 2 * n);
  const readPiece = (from: number) => read(raw.subarray(2 * from, 2 * Math.min(n, from + PIECE_ELEMENTS)), 2 * from);
  let pending = readPiece(0);
  for (let from = 0; from < n; from += PIECE_ELEMENTS) {
    const to = Math.min(n, from + PIECE_ELEMENTS);
    await pending;
    // the next piece lands above the source of this one, which the widening below never writes past
    if (to < n) pending = readPiece(to);
    if (dtype === 'F16') widenF16(out, n, from, to);
    else widenBf16(out, n, from, to);
  }
  return out;
}

/** Widens elements from..to-1 of the F16 values held in the upper half of `out`'s buffer. */
function widenF16(out: Float32Array, n: number, from: number, to: number): void {
  const src = new Uint16Array(out.buffer, 2 * n, n);
  const table = halfTable();
  for (let i = from; i < to; i++) out[i] = table[src[i]!]!;
}

/** Widens elements from..to-1 of the BF16 values held in the upper half of `out`'s buffer. */
function widenBf16(out: Float32Array, n: number, from: number, to: number): void {
  const dst = new Int32Array(out.buffer);
  if (n % 2 === 0 && from % 2 === 0) {
    // two BF16 values per 32-bit load: half the loads of one per element
    const src32 = new Int32Array(out.buffer, 2 * n + 2 * from, (to - from) >>> 1);
    for (let k = 0, j = from; k < src32.length; k++, j += 2) {
      const w = src32[k]!;
      dst[j] = w << 16;
      dst[j + 1] = w & -65536;
    }
    if ((to - from) & 1) dst[to - 1] = new Uint16Array(out.buffer, 2 * n, n)[to - 1]! << 16;
    return;
  }
  const src = new Uint16Array(out.buffer, 2 * n, n);
  for (let i = from; i < to; i++) dst[i] = src[i]! << 16;
}

/** Encodes float32 values as little-endian bytes of `dtype` (nearest-even rounding for F16/BF16). */
export function fromFloat32(data: Float32Array, dtype: StorableDtype): Uint8Array {
  const n = data.length;
  if (dtype === 'F32') {
    const out = new Uint8Array(n * 4);
    if (HOST_LE) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, n * 4));
    } else {
      const dv = new DataView(out.buffer);
      for (let i = 0; i < n; i++) dv.setFloat32(4 * i, data[i]!, true);
    }
    return out;
  }
  const out = new Uint8Array(n * 2);
  const dv = new DataView(out.buffer);
  if (dtype === 'F16') {
    for (let i = 0; i < n; i++) dv.setUint16(2 * i, numberToHalfBits(data[i]!), true);
  } else if (dtype === 'BF16') {
    const bits = new Uint32Array(data.buffer, data.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const f = HOST_LE ? bits[i]! : float32Bits(data[i]!);
      const isNaN = (f & 0x7f800000) === 0x7f800000 && (f & 0x7fffff) !== 0;
      const b = isNaN ? ((f >>> 16) & 0x8000) | 0x7fc0 : ((f + 0x7fff + ((f >>> 16) & 1)) >>> 16) & 0xffff;
      dv.setUint16(2 * i, b, true);
    }
  } else {
    throw new TypeError(`'dtype' must be F32, F16 or BF16, got '${String(dtype)}'`);
  }
  return out;
}
