/**
 * Pillow-exact resampling of 8-bit images (docs/image-processing-qwen-vl.md,
 * "Resize"): the arithmetic of Pillow's `Image.resize` for modes L/LA/RGB/RGBA
 * with the convolution filters (BOX, BILINEAR, HAMMING, BICUBIC, LANCZOS), so a
 * Hugging Face image processor that resizes through Pillow can be reproduced
 * bit for bit.
 *
 * The rules, in Pillow's terms (src/libImaging/Resample.c, src/PIL/Image.py):
 * - per output index, the filter is centred at `in0 + (i + 0.5) * scale`
 *   (scale = source span / output size); when downsampling the filter's
 *   support is widened by the scale and its argument divided by it;
 * - the taps run from trunc(centre − support + 0.5) to trunc(centre + support + 0.5),
 *   clamped to the image, weights normalised to sum 1 in double precision,
 *   then turned into fixed point with 22 fractional bits, rounded half away
 *   from zero;
 * - each output sample is `(2^21 + Σ pixel·coefficient) >> 22`, clipped to 0..255;
 * - two separable passes, horizontal then vertical, with an 8-bit image in
 *   between; a pass is skipped when that axis keeps its size (and no box
 *   moves it); resizing to the same size is a copy;
 * - since Pillow 12.2, an image more than 100 times taller than wide whose
 *   height shrinks is resized vertically first, then horizontally.
 *
 * Pure computation: no I/O, no dependencies.
 */

/** Pillow's convolution filters (`Image.Resampling` minus NEAREST, which is not a convolution). */
export type PillowFilter = 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

/** An 8-bit image, interleaved row-major `[height, width, channels]`. */
export interface Uint8Image {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/** Fractional bits of Pillow's fixed-point coefficients: `32 − 8 − 2` (Resample.c `PRECISION_BITS`). */
export const PRECISION_BITS = 22;

interface FilterDef {
  readonly support: number;
  readonly fn: (x: number) => number;
}

const F32_054 = Math.fround(0.54);
const F32_046 = Math.fround(0.46);

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

/** The filter kernels with Pillow's supports; BICUBIC is Keys' cubic with a = −0.5. */
const FILTERS: Record<PillowFilter, FilterDef> = {
  box: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    fn: (x) => {
      const ax = Math.abs(x);
      return ax < 1 ? 1 - ax : 0;
    },
  },
  hamming: {
    support: 1,
    fn: (x) => {
      const ax = Math.abs(x);
      if (ax === 0) return 1;
      if (ax >= 1) return 0;
      const px = ax * Math.PI;
      // The window's constants are C float literals (0.54f, 0.46f) promoted to double.
      return (Math.sin(px) / px) * (F32_054 + F32_046 * Math.cos(px));
    },
  },
  bicubic: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      const ax = Math.abs(x);
      if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
      if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, fn: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** Per output index: the first source index, the tap count, and the normalised double-precision weights. */
export interface ResampleCoefficients {
  /** `first[i]`: first source index used by output index i. */
  readonly first: Int32Array;
  /** `count[i]`: number of source indices used by output index i. */
  readonly count: Int32Array;
  /** `weights[i]`: the `count[i]` normalised weights of output index i. */
  readonly weights: Float64Array[];
}

/**
 * Pillow's `precompute_coeffs` for one axis. `in0`/`in1` are the source span
 * (Pillow's box edges, C floats; the whole axis by default).
 */
export function precomputeCoefficients(inSize: number, outSize: number, filter: PillowFilter, in0 = 0, in1 = inSize): ResampleCoefficients {
  const def = FILTERS[filter];
  const box0 = Math.fround(in0);
  const span = Math.fround(Math.fround(in1) - box0);
  const scale = span / outSize;
  const filterScale = scale < 1 ? 1 : scale;
  const support = def.support * filterScale;
  const ss = 1 / filterScale;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = box0 + (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    const n = Math.max(0, xmax - xmin);
    const k = new Float64Array(n);
    let ww = 0;
    for (let x = 0; x < n; x++) {
      const w = def.fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    if (ww !== 0) for (let x = 0; x < n; x++) k[x] = k[x]! / ww;
    first[xx] = xmin;
    count[xx] = n;
    weights.push(k);
  }
  return { first, count, weights };
}

/** Pillow's `normalize_coeffs_8bpc`: weight × 2^22, rounded half away from zero, as int32. */
export function toFixedPoint(weights: Float64Array): Int32Array {
  const out = new Int32Array(weights.length);
  const one = 2 ** PRECISION_BITS;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    out[i] = w < 0 ? Math.trunc(-0.5 + w * one) : Math.trunc(0.5 + w * one);
  }
  return out;
}

/** Pillow's `clip8`: the accumulator's integer part (arithmetic shift), clipped to 0..255. */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

const ROUNDING = 1 << (PRECISION_BITS - 1);

/** One horizontal pass over source rows [rowFirst, rowFirst + rows). */
function horizontalPass(src: Uint8Image, outW: number, rowFirst: number, rows: number, coeffs: ResampleCoefficients): Uint8Image {
  const c = src.channels;
  const inW = src.width;
  const out = new Uint8Array(rows * outW * c);
  const fixed = coeffs.weights.map(toFixedPoint);
  for (let y = 0; y < rows; y++) {
    const rowBase = (y + rowFirst) * inW * c;
    for (let xx = 0; xx < outW; xx++) {
      const k = fixed[xx]!;
      const xmin = coeffs.first[xx]!;
      const n = coeffs.count[xx]!;
      for (let ch = 0; ch < c; ch++) {
        let acc = ROUNDING;
        let p = rowBase + xmin * c + ch;
        for (let x = 0; x < n; x++, p += c) acc += src.data[p]! * k[x]!;
        out[(y * outW + xx) * c + ch] = clip8(acc);
      }
    }
  }
  return { data: out, width: outW, height: rows, channels: c };
}

/** One vertical pass; `rowOffset` is subtracted from every tap's first row (Pillow's cropped intermediate). */
function verticalPass(src: Uint8Image, outH: number, coeffs: ResampleCoefficients, rowOffset: number): Uint8Image {
  const c = src.channels;
  const rowLen = src.width * c;
  const out = new Uint8Array(outH * rowLen);
  const fixed = coeffs.weights.map(toFixedPoint);
  for (let yy = 0; yy < outH; yy++) {
    const k = fixed[yy]!;
    const ymin = coeffs.first[yy]! - rowOffset;
    const n = coeffs.count[yy]!;
    for (let i = 0; i < rowLen; i++) {
      let acc = ROUNDING;
      let p = ymin * rowLen + i;
      for (let y = 0; y < n; y++, p += rowLen) acc += src.data[p]! * k[y]!;
      out[yy * rowLen + i] = clip8(acc);
    }
  }
  return { data: out, width: src.width, height: outH, channels: c };
}

/** The source region to resample, in source pixels (Pillow's `box`: left, top, right, bottom). */
export type ResampleBox = readonly [number, number, number, number];

/**
 * Pillow's `ImagingResample` core (`self.im.resize(size, filter, box)`): horizontal pass
 * (only over the rows the vertical pass will read), then vertical pass, each
 * skipped when unneeded, 8-bit throughout.
 */
export function resampleCore(src: Uint8Image, outW: number, outH: number, filter: PillowFilter, box: ResampleBox = [0, 0, src.width, src.height]): Uint8Image {
  const [b0, b1, b2, b3] = box.map(Math.fround) as unknown as [number, number, number, number];
  // Pillow compares the box's far edge with the *output* size here (Resample.c ImagingResampleInner).
  const needHorizontal = outW !== src.width || b0 !== 0 || b2 !== outW;
  const needVertical = outH !== src.height || b1 !== 0 || b3 !== outH;
  const vert = precomputeCoefficients(src.height, outH, filter, b1, b3);
  let img = src;
  let rowOffset = 0;
  if (needHorizontal) {
    const rowFirst = vert.first[0]!;
    const rowLast = vert.first[outH - 1]! + vert.count[outH - 1]!;
    const horiz = precomputeCoefficients(src.width, outW, filter, b0, b2);
    img = horizontalPass(src, outW, rowFirst, rowLast - rowFirst, horiz);
    rowOffset = rowFirst;
  }
  if (needVertical) img = verticalPass(img, outH, vert, rowOffset);
  if (img === src) img = { ...src, data: new Uint8Array(src.data) };
  return img;
}

export interface PillowResizeOptions {
  /**
   * Pillow ≥ 12.2 resizes an image taller than 100 × its width whose height shrinks
   * in two calls, vertical first (src/PIL/Image.py `resize`). Default true; set
   * false to reproduce Pillow ≤ 12.1, which always goes horizontal first.
   */
  readonly tallImagesVerticalFirst?: boolean;
}

/**
 * `PIL.Image.Image.resize((outW, outH), filter)` for an 8-bit image with no box and
 * no `reducing_gap` (what transformers' `resize` calls). Returns a new image; the
 * input is never modified.
 * @throws RangeError for non-positive or non-integer sizes, or data of the wrong length
 */
export function pillowResize(src: Uint8Image, outW: number, outH: number, filter: PillowFilter = 'bicubic', options: PillowResizeOptions = {}): Uint8Image {
  for (const [name, v] of [['width', src.width], ['height', src.height], ['outWidth', outW], ['outHeight', outH], ['channels', src.channels]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (src.data.length !== src.width * src.height * src.channels) {
    throw new RangeError(`image data has ${src.data.length} bytes, expected ${src.width}×${src.height}×${src.channels}`);
  }
  if (!(filter in FILTERS)) throw new RangeError(`unknown filter '${String(filter)}'`);
  if (outW === src.width && outH === src.height) return { ...src, data: new Uint8Array(src.data) };
  const verticalFirst = (options.tallImagesVerticalFirst ?? true) && src.height > src.width * 100 && outH < src.height;
  if (verticalFirst) {
    const tall = resampleCore(src, src.width, outH, filter, [0, 0, src.width, src.height]);
    return resampleCore(tall, outW, outH, filter, [0, 0, src.width, outH]);
  }
  return resampleCore(src, outW, outH, filter);
}
