/**
 * Pillow-exact 8-bit resampling (src/engine/model/families/qwen-vl/pillow-resize.ts),
 * checked against (1) the expected pixel matrices of Pillow's own test suite
 * (Tests/test_image_resample.py), (2) identities, and (3) an independent float64
 * implementation of the direct convolution formula written here.
 */
import { describe, expect, it } from 'vitest';
import { uniformStream } from '../../src/engine/runtime/tasks.js';
import { PRECISION_BITS, pillowResize, toFixedPoint, type PillowFilter, type Uint8Image } from '../../src/engine/model/families/qwen-vl/pillow-resize.js';

/** Seeded PRNG so failures reproduce (the engine's own mulberry32 stream). */
const rng = uniformStream;

function randomImage(width: number, height: number, channels: number, rand: () => number): Uint8Image {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 256);
  return { data, width, height, channels };
}

function at(img: Uint8Image, x: number, y: number, c = 0): number {
  return img.data[(y * img.width + x) * img.channels + c]!;
}

// ---------------------------------------------------------------------------
// (1) Pillow's TestImagingCoreResampleAccuracy
// ---------------------------------------------------------------------------

/** Pillow's make_case: two bright squares (top-left, bottom-right) of `color`, the rest 255 − color. */
function makeCase(size: number, color: number, channels: number): Uint8Image {
  const data = new Uint8Array(size * size * channels);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const bright = (x <= size / 2 - 1 && y <= size / 2 - 1) || (x >= size / 2 && y >= size / 2);
      for (let c = 0; c < channels; c++) data[(y * size + x) * channels + c] = bright ? color : 255 - color;
    }
  }
  return { data, width: size, height: size, channels };
}

/** Pillow's make_sample: the hex data is the top-left quarter; the others mirror it (and invert it off the diagonal). */
function makeSample(hex: string, size: number): number[][] {
  const vals = hex.split(/\s+/).filter(Boolean).map((s) => parseInt(s, 16));
  const q = size / 2;
  const out = Array.from({ length: size }, () => new Array<number>(size).fill(-1));
  for (let y = 0; y < q; y++) {
    for (let x = 0; x < q; x++) {
      const v = vals[y * q + x]!;
      out[y]![x] = v;
      out[size - y - 1]![size - x - 1] = v;
      out[size - y - 1]![x] = 255 - v;
      out[y]![size - x - 1] = 255 - v;
    }
  }
  return out;
}

const PILLOW_ACCURACY: { name: string; filter: PillowFilter; from: number; to: number; data: string }[] = [
  { name: 'test_reduce_box', filter: 'box', from: 8, to: 4, data: 'e1 e1 e1 e1' },
  { name: 'test_reduce_bilinear', filter: 'bilinear', from: 8, to: 4, data: 'e1 c9 c9 b7' },
  { name: 'test_reduce_hamming', filter: 'hamming', from: 8, to: 4, data: 'e1 da da d3' },
  { name: 'test_reduce_bicubic', filter: 'bicubic', from: 12, to: 6, data: 'e1 e3 d4 e3 e5 d6 d4 d6 c9' },
  { name: 'test_reduce_lanczos', filter: 'lanczos', from: 16, to: 8, data: 'e1 e0 e4 d7 e0 df e3 d6 e4 e3 e7 da d7 d6 d9 ce' },
  { name: 'test_enlarge_box', filter: 'box', from: 2, to: 4, data: 'e1 e1 e1 e1' },
  { name: 'test_enlarge_bilinear', filter: 'bilinear', from: 2, to: 4, data: 'e1 b0 b0 98' },
  { name: 'test_enlarge_hamming', filter: 'hamming', from: 2, to: 4, data: 'e1 d2 d2 c5' },
  { name: 'test_enlarge_bicubic', filter: 'bicubic', from: 4, to: 8, data: 'e1 e5 ee b9 e5 e9 f3 bc ee f3 fd c1 b9 bc c1 a2' },
  {
    name: 'test_enlarge_lanczos',
    filter: 'lanczos',
    from: 6,
    to: 12,
    data: 'e1 e0 db ed f5 b8 e0 df da ec f3 b7 db db d6 e7 ee b5 ed ec e6 fb ff bf f5 f4 ee ff ff c4 b8 b7 b4 bf c4 a0',
  },
];

describe("Pillow's resample accuracy cases (Tests/test_image_resample.py)", () => {
  for (const c of PILLOW_ACCURACY) {
    for (const channels of [1, 2, 3, 4]) {
      it(`${c.name}: ${c.from}→${c.to} ${c.filter}, ${channels} channel(s)`, () => {
        const out = pillowResize(makeCase(c.from, 0xe1, channels), c.to, c.to, c.filter);
        const expected = makeSample(c.data, c.to);
        for (let ch = 0; ch < channels; ch++) {
          const got = Array.from({ length: c.to }, (_, y) => Array.from({ length: c.to }, (_, x) => at(out, x, y, ch)));
          expect(got).toEqual(expected);
        }
      });
    }
  }

  it('test_box_filter_correct_range: #1688ff 8×8 → 100×100 BOX stays #1688ff', () => {
    const src: Uint8Image = { data: new Uint8Array(8 * 8 * 3).map((_, i) => [0x16, 0x88, 0xff][i % 3]!), width: 8, height: 8, channels: 3 };
    const out = pillowResize(src, 100, 100, 'box');
    for (let i = 0; i < out.data.length; i++) expect(out.data[i]).toBe([0x16, 0x88, 0xff][i % 3]);
  });

  it('TestCoreResampleConsistency.test_8u: 512×9 → 9×512 LANCZOS keeps RGB (0, 64, 255) and L 12', () => {
    const rgb: Uint8Image = { data: new Uint8Array(512 * 9 * 3).map((_, i) => [0, 64, 255][i % 3]!), width: 512, height: 9, channels: 3 };
    const out = pillowResize(rgb, 9, 512, 'lanczos');
    for (let i = 0; i < out.data.length; i++) expect(out.data[i]).toBe([0, 64, 255][i % 3]);
    const l = pillowResize({ data: new Uint8Array(512 * 9).fill(12), width: 512, height: 9, channels: 1 }, 9, 512, 'lanczos');
    expect(l.data.every((v) => v === 12)).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// Fixed point
// ---------------------------------------------------------------------------

describe('fixed-point coefficients', () => {
  it('uses 22 fractional bits (32 − 8 − 2)', () => {
    expect(PRECISION_BITS).toBe(22);
  });

  it('rounds half away from zero, by hand', () => {
    const u = 2 ** -22;
    expect(Array.from(toFixedPoint(new Float64Array([0.25, -0.25, 1.5 * u, -1.5 * u, 0.49 * u, -0.49 * u, 2.5 * u, 1])))).toEqual([
      2 ** 20, -(2 ** 20), 2, -2, 0, 0, 3, 2 ** 22,
    ]);
  });
});

// ---------------------------------------------------------------------------
// (2) Identities
// ---------------------------------------------------------------------------

const ALL_FILTERS: PillowFilter[] = ['box', 'bilinear', 'hamming', 'bicubic', 'lanczos'];

describe('identities', () => {
  it('resizing to the same size is an exact copy in a new buffer', () => {
    const src = randomImage(13, 7, 3, rng(1));
    for (const f of ALL_FILTERS) {
      const out = pillowResize(src, 13, 7, f);
      expect(out.data).toEqual(src.data);
      expect(out.data).not.toBe(src.data);
    }
  });

  it('a constant image stays constant for every filter and many size pairs', () => {
    const rand = rng(2);
    for (let trial = 0; trial < 40; trial++) {
      const w = 1 + Math.floor(rand() * 40);
      const h = 1 + Math.floor(rand() * 40);
      const ow = 1 + Math.floor(rand() * 60);
      const oh = 1 + Math.floor(rand() * 60);
      const colour = [Math.floor(rand() * 256), 0, 255];
      const src: Uint8Image = { data: new Uint8Array(w * h * 3).map((_, i) => colour[i % 3]!), width: w, height: h, channels: 3 };
      for (const f of ALL_FILTERS) {
        const out = pillowResize(src, ow, oh, f);
        for (let i = 0; i < out.data.length; i++) if (out.data[i] !== colour[i % 3]) throw new Error(`${f} ${w}×${h}→${ow}×${oh}: sample ${i} is ${out.data[i]}`);
      }
    }
  });

  it('when only the width changes, rows never mix (the vertical pass is skipped)', () => {
    const src = randomImage(31, 9, 3, rng(3));
    for (const f of ALL_FILTERS) {
      const out = pillowResize(src, 17, 9, f);
      for (let y = 0; y < 9; y++) {
        const row: Uint8Image = { data: src.data.slice(y * 31 * 3, (y + 1) * 31 * 3), width: 31, height: 1, channels: 3 };
        expect(pillowResize(row, 17, 1, f).data).toEqual(out.data.slice(y * 17 * 3, (y + 1) * 17 * 3));
      }
    }
  });

  it('when only the height changes, columns never mix (the horizontal pass is skipped)', () => {
    const src = randomImage(6, 29, 1, rng(4));
    for (const f of ALL_FILTERS) {
      const out = pillowResize(src, 6, 11, f);
      for (let x = 0; x < 6; x++) {
        const col: Uint8Image = { data: Uint8Array.from({ length: 29 }, (_, y) => src.data[y * 6 + x]!), width: 1, height: 29, channels: 1 };
        expect(Array.from(pillowResize(col, 1, 11, f).data)).toEqual(Array.from({ length: 11 }, (_, y) => out.data[y * 6 + x]));
      }
    }
  });

  it('rejects empty sizes and mismatched data', () => {
    const src = randomImage(4, 4, 3, rng(5));
    expect(() => pillowResize(src, 0, 4)).toThrow(RangeError);
    expect(() => pillowResize({ ...src, data: src.data.subarray(1) }, 2, 2)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------
// Pillow ≥ 12.2: tall images are resized vertically first
// ---------------------------------------------------------------------------

describe('tall images (height > 100 × width, height shrinking)', () => {
  const src = randomImage(2, 250, 3, rng(6));
  it('go vertical then horizontal by default (Pillow ≥ 12.2)', () => {
    const stepwise = pillowResize(pillowResize(src, 2, 20, 'bicubic'), 3, 20, 'bicubic');
    expect(pillowResize(src, 3, 20, 'bicubic').data).toEqual(stepwise.data);
  });
  it('go horizontal then vertical with tallImagesVerticalFirst: false (Pillow ≤ 12.1)', () => {
    const stepwise = pillowResize(pillowResize(src, 3, 250, 'bicubic'), 3, 20, 'bicubic');
    expect(pillowResize(src, 3, 20, 'bicubic', { tallImagesVerticalFirst: false }).data).toEqual(stepwise.data);
  });
});

// ---------------------------------------------------------------------------
// (3) An independent float64 reference: the direct convolution formula
// ---------------------------------------------------------------------------

/** The kernels written out as polynomials (Keys' cubic with a = −0.5; triangle). */
const KERNELS: Partial<Record<PillowFilter, { support: number; k: (x: number) => number }>> = {
  bicubic: {
    support: 2,
    k: (x) => {
      const t = Math.abs(x);
      if (t < 1) return 1.5 * t ** 3 - 2.5 * t ** 2 + 1;
      if (t < 2) return -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2;
      return 0;
    },
  },
  bilinear: { support: 1, k: (x) => Math.max(0, 1 - Math.abs(x)) },
};

/**
 * out[i] = Σ_j K((j + ½ − c_i)/s) · in[j] / Σ_j K((j + ½ − c_i)/s) over every source index j,
 * with c_i = (i + ½)·n/m and s = max(1, n/m). Returns the unrounded values.
 */
function convolve1d(values: Float64Array, n: number, m: number, filter: PillowFilter): Float64Array {
  const { k } = KERNELS[filter]!;
  const scale = n / m;
  const s = Math.max(1, scale);
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const c = (i + 0.5) * scale;
    let num = 0;
    let den = 0;
    for (let j = 0; j < n; j++) {
      const w = k((j + 0.5 - c) / s);
      num += w * values[j]!;
      den += w;
    }
    out[i] = num / den;
  }
  return out;
}

const roundClip = (v: number): number => Math.min(255, Math.max(0, Math.floor(v + 0.5)));
/** Within this of a rounding boundary, Pillow's 22-bit coefficients may round the other way. */
const TIE = 1e-3;
const nearTie = (v: number): boolean => v > -0.5 + -TIE && v < 255.5 + TIE && Math.abs(v - Math.floor(v) - 0.5) < TIE;

/**
 * Two passes, horizontal then vertical, each rounded to 8 bits, a pass skipped when its axis keeps its size.
 * `excused[i]`: the sample (or an intermediate sample it reads with non-zero weight) sits on a rounding tie.
 */
function reference(src: Uint8Image, ow: number, oh: number, filter: PillowFilter): { data: Uint8Array; excused: Uint8Array } {
  const { width: w, height: h, channels: c } = src;
  let mid = Float64Array.from(src.data);
  let midTie = new Uint8Array(w * h * c);
  let mw = w;
  if (ow !== w) {
    const next = new Float64Array(h * ow * c);
    const tie = new Uint8Array(h * ow * c);
    for (let y = 0; y < h; y++) {
      for (let ch = 0; ch < c; ch++) {
        const row = Float64Array.from({ length: w }, (_, x) => src.data[(y * w + x) * c + ch]!);
        const r = convolve1d(row, w, ow, filter);
        for (let x = 0; x < ow; x++) {
          next[(y * ow + x) * c + ch] = roundClip(r[x]!);
          tie[(y * ow + x) * c + ch] = nearTie(r[x]!) ? 1 : 0;
        }
      }
    }
    mid = next;
    midTie = tie;
    mw = ow;
  }
  if (oh === h) return { data: Uint8Array.from(mid), excused: midTie };
  const out = new Uint8Array(oh * mw * c);
  const excused = new Uint8Array(oh * mw * c);
  const { k } = KERNELS[filter]!;
  const scale = h / oh;
  const s = Math.max(1, scale);
  for (let x = 0; x < mw; x++) {
    for (let ch = 0; ch < c; ch++) {
      const col = Float64Array.from({ length: h }, (_, y) => mid[(y * mw + x) * c + ch]!);
      const r = convolve1d(col, h, oh, filter);
      for (let y = 0; y < oh; y++) {
        const i = (y * mw + x) * c + ch;
        out[i] = roundClip(r[y]!);
        let ex = nearTie(r[y]!);
        const centre = (y + 0.5) * scale;
        for (let j = 0; j < h && !ex; j++) if (midTie[(j * mw + x) * c + ch] && k((j + 0.5 - centre) / s) !== 0) ex = true;
        excused[i] = ex ? 1 : 0;
      }
    }
  }
  return { data: out, excused };
}

describe('agreement with an independent float64 convolution (rounded once per pass)', () => {
  const pairs: [number, number, number, number][] = [
    [40, 30, 13, 17],
    [7, 5, 97, 61],
    [300, 9, 7, 9],
    [9, 300, 9, 7],
    [28, 28, 56, 84],
    [64, 48, 28, 28],
    [1, 1, 5, 3],
    [5, 3, 1, 1],
  ];
  const rand = rng(7);
  for (let i = 0; i < 30; i++) {
    pairs.push([1 + Math.floor(rand() * 50), 1 + Math.floor(rand() * 50), 1 + Math.floor(rand() * 70), 1 + Math.floor(rand() * 70)]);
  }

  // BOX is left out: its kernel jumps at ±½, and where a tap sits exactly there in real arithmetic
  // the floating-point evaluation order decides; Pillow's own cases above pin BOX down.
  for (const filter of ['bicubic', 'bilinear'] as PillowFilter[]) {
    it(`${filter}: ${pairs.length} random images of different size pairs`, () => {
      let total = 0;
      let excusedMismatches = 0;
      for (const [w, h, ow, oh] of pairs) {
        const src = randomImage(w, h, 3, rand);
        const got = pillowResize(src, ow, oh, filter, { tallImagesVerticalFirst: false });
        const ref = reference(src, ow, oh, filter);
        for (let j = 0; j < got.data.length; j++) {
          total++;
          if (got.data[j] === ref.data[j]) continue;
          const where = `${w}×${h}→${ow}×${oh} sample ${j}: got ${got.data[j]}, reference ${ref.data[j]}`;
          expect(Math.abs(got.data[j]! - ref.data[j]!), where).toBeLessThanOrEqual(1);
          expect(ref.excused[j], `${where} without a rounding tie`).toBe(1);
          excusedMismatches++;
        }
      }
      // Ties are rare on random data: nearly every sample agrees exactly.
      expect(excusedMismatches / total).toBeLessThan(0.01);
    });
  }
});
