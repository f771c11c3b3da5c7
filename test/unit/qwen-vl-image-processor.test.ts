/**
 * The Qwen2-VL / Qwen2.5-VL image processor (src/engine/model/families/qwen-vl/image-processor.ts):
 * smart_resize against hand computation with Python semantics, preprocessor_config.json
 * resolution, float32 rescale/normalise against numpy values, the patch layout against an
 * independent implementation of numpy's reshape + transpose, and decoding as Pillow's
 * exif_transpose + convert("RGB") on PNGs built byte by byte here.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  OPENAI_CLIP_MEAN,
  OPENAI_CLIP_STD,
  QWEN2VL_IMAGE_PROCESSOR_DEFAULTS,
  QwenImageError,
  decodeImageRgb,
  parseQwen2VLPreprocessorConfig,
  patchify,
  preprocessRgb,
  processQwenImage,
  pythonRound,
  rescaleAndNormalize,
  smartResize,
  type Qwen2VLImageProcessorConfig,
} from '../../src/engine/model/families/qwen-vl/image-processor.js';
import { pillowResize, type Uint8Image } from '../../src/engine/model/families/qwen-vl/pillow-resize.js';

const DEFAULT_SR = { factor: 28, minPixels: 56 * 56, maxPixels: 28 * 28 * 1280 };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof QwenImageError ? e.code : `not a QwenImageError: ${String(e)}`;
  }
  return undefined;
}

async function asyncCodeOf(p: Promise<unknown>): Promise<QwenImageError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof QwenImageError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

// ---------------------------------------------------------------------------
// round() and smart_resize
// ---------------------------------------------------------------------------

describe("Python's round (ties to even)", () => {
  it('rounds halves to the even neighbour', () => {
    expect([0.5, 1.5, 2.5, 3.5, 4.5, -0.5, -1.5].map(pythonRound)).toEqual([0, 2, 2, 4, 4, 0, -2]);
  });
  it('rounds everything else to nearest', () => {
    expect([2.4999999, 2.5000001, 0.714, 17.142857, 22.857].map(pythonRound)).toEqual([2, 3, 1, 17, 23]);
  });
});

describe('smart_resize (hand-computed from the formula)', () => {
  it('plain rounding: 480×640 → round(17.14)=17, round(22.86)=23 → 476×644', () => {
    expect(smartResize(480, 640, DEFAULT_SR)).toEqual([476, 644]);
  });

  it('half to even: 70/28 = 2.5 → 2 and 126/28 = 4.5 → 4, so 56×112 (not 84×140)', () => {
    expect(smartResize(70, 126, DEFAULT_SR)).toEqual([56, 112]);
  });

  it('min_pixels upscale: 20×30 rounds to 28×28 = 784 < 3136; β = √(3136/600) ≈ 2.2862 → ⌈1.633⌉·28 × ⌈2.449⌉·28 = 56×84', () => {
    expect(smartResize(20, 30, DEFAULT_SR)).toEqual([56, 84]);
  });

  it('max_pixels downscale: 2000×3000 → 1988×2996 > 1003520; β = √(6e6/1003520) ≈ 2.4452 → ⌊29.21⌋·28 × ⌊43.82⌋·28 = 812×1204', () => {
    expect(smartResize(2000, 3000, DEFAULT_SR)).toEqual([812, 1204]);
  });

  it('1080×1920 with the class default max_pixels → 728×1316; with the shipped 12845056 → 1092×1932', () => {
    expect(smartResize(1080, 1920, DEFAULT_SR)).toEqual([728, 1316]);
    expect(smartResize(1080, 1920, { ...DEFAULT_SR, maxPixels: 12845056 })).toEqual([1092, 1932]);
  });

  it('aspect ratio exactly 200 passes (10×2000 → 28×812); above 200 is IMAGE_ASPECT_RATIO', () => {
    expect(smartResize(10, 2000, DEFAULT_SR)).toEqual([28, 812]);
    expect(codeOf(() => smartResize(10, 2001, DEFAULT_SR))).toBe('IMAGE_ASPECT_RATIO');
    expect(codeOf(() => smartResize(2001, 10, DEFAULT_SR))).toBe('IMAGE_ASPECT_RATIO');
  });

  it('downscale keeps each side at least one factor: 28×5600 with max 3136 → 28×784', () => {
    // β = √(156800/3136) = √50; ⌊28/√50/28⌋ = 0 → max(28, 0) = 28; ⌊5600/√50/28⌋ = ⌊28.28⌋ = 28 → 784
    expect(smartResize(28, 5600, { ...DEFAULT_SR, maxPixels: 3136 })).toEqual([28, 784]);
  });

  it('legacy releases: a side under the factor, or a side floored to 0, is IMAGE_TOO_SMALL', () => {
    expect(codeOf(() => smartResize(20, 30, { ...DEFAULT_SR, legacySmallImageCheck: true }))).toBe('IMAGE_TOO_SMALL');
    expect(codeOf(() => smartResize(28, 5600, { ...DEFAULT_SR, maxPixels: 3136, legacySmallImageCheck: true }))).toBe('IMAGE_TOO_SMALL');
    expect(smartResize(480, 640, { ...DEFAULT_SR, legacySmallImageCheck: true })).toEqual([476, 644]);
  });

  it('IMAGE_TOO_SMALL when nothing lifts a zero side (min_pixels 0) or the image is empty', () => {
    // round(10/28) = 0 → 0×56 = 0, not below min_pixels 0, so the size stays empty
    expect(codeOf(() => smartResize(10, 60, { ...DEFAULT_SR, minPixels: 0 }))).toBe('IMAGE_TOO_SMALL');
    expect(codeOf(() => smartResize(0, 60, DEFAULT_SR))).toBe('IMAGE_TOO_SMALL');
  });
});

// ---------------------------------------------------------------------------
// preprocessor_config.json
// ---------------------------------------------------------------------------

describe('preprocessor_config.json resolution', () => {
  // As shipped with Qwen/Qwen2-VL-7B-Instruct and Qwen/Qwen2.5-VL-7B-Instruct.
  const shipped = {
    min_pixels: 3136,
    max_pixels: 12845056,
    patch_size: 14,
    temporal_patch_size: 2,
    merge_size: 2,
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_std: [0.26862954, 0.26130258, 0.27577711],
    image_processor_type: 'Qwen2VLImageProcessor',
    processor_class: 'Qwen2VLProcessor',
  };

  it('reads the shipped config, defaults the rest', () => {
    const c = parseQwen2VLPreprocessorConfig(shipped);
    expect(c).toEqual({
      ...QWEN2VL_IMAGE_PROCESSOR_DEFAULTS,
      minPixels: 3136,
      maxPixels: 12845056,
    });
    expect(c.rescaleFactor).toBe(1 / 255);
    expect(c.resample).toBe('bicubic');
  });

  it('an empty config is the class defaults: 56·56, 28·28·1280, OpenAI CLIP mean/std, 14/2/2', () => {
    const c = parseQwen2VLPreprocessorConfig({});
    expect([c.minPixels, c.maxPixels, c.patchSize, c.temporalPatchSize, c.mergeSize]).toEqual([3136, 1003520, 14, 2, 2]);
    expect(c.imageMean).toEqual([0.48145466, 0.4578275, 0.40821073]);
    expect(c.imageStd).toEqual([0.26862954, 0.26130258, 0.27577711]);
    expect([c.doResize, c.doRescale, c.doNormalize, c.doConvertRgb]).toEqual([true, true, true, true]);
  });

  it('size {shortest_edge, longest_edge} is read; top-level min_pixels/max_pixels override it', () => {
    const s = parseQwen2VLPreprocessorConfig({ size: { shortest_edge: 1000, longest_edge: 2000 } });
    expect([s.minPixels, s.maxPixels]).toEqual([1000, 2000]);
    const both = parseQwen2VLPreprocessorConfig({ size: { shortest_edge: 1000, longest_edge: 2000 }, min_pixels: 7, max_pixels: 9 });
    expect([both.minPixels, both.maxPixels]).toEqual([7, 9]);
  });

  it('the first releases\' size {min_pixels, max_pixels} is read too', () => {
    const s = parseQwen2VLPreprocessorConfig({ size: { min_pixels: 3136, max_pixels: 12845056 } });
    expect([s.minPixels, s.maxPixels]).toEqual([3136, 12845056]);
  });

  it('a size missing a key is IMAGE_CONFIG unless min_pixels/max_pixels fill it', () => {
    expect(codeOf(() => parseQwen2VLPreprocessorConfig({ size: { shortest_edge: 1000 } }))).toBe('IMAGE_CONFIG');
    expect(parseQwen2VLPreprocessorConfig({ size: { shortest_edge: 1000 }, max_pixels: 5000 }).maxPixels).toBe(5000);
  });

  it('resample codes map to Pillow filters; NEAREST and junk are IMAGE_CONFIG', () => {
    expect(parseQwen2VLPreprocessorConfig({ resample: 2 }).resample).toBe('bilinear');
    expect(parseQwen2VLPreprocessorConfig({ resample: 3 }).resample).toBe('bicubic');
    expect(codeOf(() => parseQwen2VLPreprocessorConfig({ resample: 0 }))).toBe('IMAGE_CONFIG');
    expect(codeOf(() => parseQwen2VLPreprocessorConfig({ resample: 'bicubic' }))).toBe('IMAGE_CONFIG');
  });

  it('a scalar mean/std applies to every channel; wrong shapes and types are IMAGE_CONFIG', () => {
    const c = parseQwen2VLPreprocessorConfig({ image_mean: 0.5, image_std: 0.5 });
    expect([c.imageMean, c.imageStd]).toEqual([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]);
    expect(codeOf(() => parseQwen2VLPreprocessorConfig({ image_mean: [0.5, 0.5] }))).toBe('IMAGE_CONFIG');
    expect(codeOf(() => parseQwen2VLPreprocessorConfig({ patch_size: 0 }))).toBe('IMAGE_CONFIG');
    expect(codeOf(() => parseQwen2VLPreprocessorConfig({ do_resize: 'yes' }))).toBe('IMAGE_CONFIG');
    expect(codeOf(() => parseQwen2VLPreprocessorConfig([]))).toBe('IMAGE_CONFIG');
  });
});

// ---------------------------------------------------------------------------
// rescale + normalize in float32
// ---------------------------------------------------------------------------

describe('rescale and normalise', () => {
  // numpy 2.4: x = (uint8.astype(float64) * (1/255)).astype(float32); (x - float32(mean[c])) / float32(std[c])
  const NUMPY: Record<number, number[]> = {
    0: [-1.7922625541687012, -1.777664065361023, 0.061737604439258575, 0.07633614540100098, 1.9157377481460571, 1.9303361177444458],
    1: [-1.7520971298217773, -1.7370892763137817, 0.15388943254947662, 0.16889731585979462, 2.059875965118408, 2.0748836994171143],
    2: [-1.480219841003418, -1.465999722480774, 0.3257285952568054, 0.33994877338409424, 2.1316771507263184, 2.1458969116210938],
  };
  const PIXELS = [0, 1, 127, 128, 254, 255];

  it('matches numpy float32 arithmetic bit for bit (CLIP mean/std)', () => {
    const data = new Uint8Array(PIXELS.length * 3);
    PIXELS.forEach((p, i) => data.fill(p, 3 * i, 3 * i + 3));
    const out = rescaleAndNormalize({ data, width: PIXELS.length, height: 1, channels: 3 }, QWEN2VL_IMAGE_PROCESSOR_DEFAULTS);
    for (let c = 0; c < 3; c++) {
      expect(PIXELS.map((_, i) => out[3 * i + c])).toEqual(NUMPY[c]);
    }
  });

  it('differs from float64 arithmetic rounded once (so the float32 steps matter)', () => {
    const f64 = (128 / 255 - OPENAI_CLIP_MEAN[0]!) / OPENAI_CLIP_STD[0]!;
    expect(Math.fround(f64)).not.toBe(NUMPY[0]![3]);
  });

  it('without rescale, normalises the 0..255 value; without either, passes it through', () => {
    const img = { data: Uint8Array.from([255, 255, 255]), width: 1, height: 1, channels: 3 };
    const noRescale = rescaleAndNormalize(img, { ...QWEN2VL_IMAGE_PROCESSOR_DEFAULTS, doRescale: false, imageMean: [0.5, 0.5, 0.5], imageStd: [2, 2, 2] });
    expect(Array.from(noRescale)).toEqual([127.25, 127.25, 127.25]);
    const raw = rescaleAndNormalize(img, { ...QWEN2VL_IMAGE_PROCESSOR_DEFAULTS, doRescale: false, doNormalize: false });
    expect(Array.from(raw)).toEqual([255, 255, 255]);
  });
});

// ---------------------------------------------------------------------------
// Patch layout
// ---------------------------------------------------------------------------

/**
 * numpy semantics, written independently: stack the frame T times as [T, C, H, W], reshape to
 * [1, T, C, H/(M·P), M, P, W/(M·P), M, P], transpose (0, 3, 6, 4, 7, 2, 1, 5, 8), reshape to 2-D.
 * `value(c, y, x)` gives the frame's values.
 */
function transformersLayout(value: (c: number, y: number, x: number) => number, C: number, H: number, W: number, P: number, M: number, T: number): number[][] {
  const gh = H / P;
  const gw = W / P;
  const shape = [1, T, C, gh / M, M, P, gw / M, M, P];
  // Row-major strides of the reshaped [T, C, H, W] buffer.
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i]!;
  }
  const perm = [0, 3, 6, 4, 7, 2, 1, 5, 8];
  const pShape = perm.map((p) => shape[p]!);
  const pStrides = perm.map((p) => strides[p]!);
  const total = acc;
  const flat: number[] = [];
  const idx = new Array<number>(pShape.length).fill(0);
  for (let n = 0; n < total; n++) {
    let off = 0;
    for (let d = 0; d < idx.length; d++) off += idx[d]! * pStrides[d]!;
    // offset into [T, C, H, W]
    const x = off % W;
    const y = Math.floor(off / W) % H;
    const c = Math.floor(off / (W * H)) % C;
    flat.push(value(c, y, x));
    for (let d = idx.length - 1; d >= 0; d--) {
      idx[d]!++;
      if (idx[d]! < pShape[d]!) break;
      idx[d] = 0;
    }
  }
  const cols = C * T * P * P;
  return Array.from({ length: total / cols }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
}

function encodedFrame(C: number, H: number, W: number): Float32Array {
  const v = new Float32Array(H * W * C);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) v[(y * W + x) * C + c] = c * 1e6 + y * 1000 + x;
  return v;
}

describe('patch layout', () => {
  it('Qwen2-VL sizes (P 14, M 2, T 2) on a 56×84 frame encoding (c, y, x): hand-checked entries', () => {
    const out = patchify(encodedFrame(3, 56, 84), 56, 84, 3, 14, 2, 2);
    expect(out.gridThw).toEqual([1, 4, 6]);
    expect([out.numPatches, out.patchDim]).toEqual([24, 1176]);
    const cell = (row: number, col: number) => out.pixelValues[row * 1176 + col];
    const code = (c: number, y: number, x: number) => c * 1e6 + y * 1000 + x;
    expect(cell(0, 0)).toBe(code(0, 0, 0));
    expect(cell(0, 15)).toBe(code(0, 1, 1)); // py 1, px 1
    expect(cell(0, 196)).toBe(code(0, 0, 0)); // frame 1 repeats frame 0
    expect(cell(0, 392)).toBe(code(1, 0, 0)); // next channel after T·P·P columns
    expect(cell(1, 0)).toBe(code(0, 0, 14)); // same merge block, patch to the right
    expect(cell(2, 0)).toBe(code(0, 14, 0)); // same merge block, patch below
    expect(cell(3, 0)).toBe(code(0, 14, 14));
    expect(cell(4, 0)).toBe(code(0, 0, 28)); // next merge block along the row
    expect(cell(12, 0)).toBe(code(0, 28, 0)); // first block of the second block row (3 blocks per row × 4)
    expect(cell(23, 1175)).toBe(code(2, 55, 83));
  });

  for (const [P, M, T, H, W] of [
    [14, 2, 2, 56, 84],
    [2, 2, 3, 8, 12],
    [3, 1, 1, 6, 9],
    [2, 3, 2, 12, 6],
  ] as const) {
    it(`matches numpy reshape/transpose for P ${P}, M ${M}, T ${T}, ${W}×${H}`, () => {
      const frame = encodedFrame(3, H, W);
      const out = patchify(frame, H, W, 3, P, M, T);
      const expected = transformersLayout((c, y, x) => frame[(y * W + x) * 3 + c]!, 3, H, W, P, M, T);
      expect(out.numPatches).toBe(expected.length);
      expect(Array.from(out.pixelValues)).toEqual(expected.flat());
    });
  }

  it('preprocessRgb without resize/rescale/normalise is exactly the layout of the uint8 pixels', () => {
    const H = 28;
    const W = 56;
    const data = new Uint8Array(H * W * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) data[(y * W + x) * 3 + c] = (x + 3 * y + 50 * c) % 256;
    const cfg: Qwen2VLImageProcessorConfig = { ...QWEN2VL_IMAGE_PROCESSOR_DEFAULTS, doResize: false, doRescale: false, doNormalize: false };
    const out = preprocessRgb({ data, width: W, height: H, channels: 3 }, cfg);
    expect(out.gridThw).toEqual([1, 2, 4]);
    expect(Array.from(out.pixelValues)).toEqual(transformersLayout((c, y, x) => (x + 3 * y + 50 * c) % 256, 3, H, W, 14, 2, 2).flat());
  });

  it('do_resize false with sides not multiples of 28 is IMAGE_NOT_DIVISIBLE', () => {
    const cfg = { ...QWEN2VL_IMAGE_PROCESSOR_DEFAULTS, doResize: false };
    expect(codeOf(() => preprocessRgb({ data: new Uint8Array(30 * 28 * 3), width: 30, height: 28, channels: 3 }, cfg))).toBe('IMAGE_NOT_DIVISIBLE');
  });
});

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A minimal PNG encoder: colour type 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA; 8 or 16 bits (or fewer, pre-packed). */
function png(width: number, height: number, colourType: number, bitDepth: number, samples: number[], extra: Buffer[] = []): Buffer {
  const spp = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colourType]!;
  const rows: Buffer[] = [];
  if (bitDepth < 8) {
    const bytesPerRow = Math.ceil((width * bitDepth) / 8);
    for (let y = 0; y < height; y++) rows.push(Buffer.from([0, ...samples.slice(y * bytesPerRow, (y + 1) * bytesPerRow)]));
  } else {
    const bps = bitDepth / 8;
    for (let y = 0; y < height; y++) {
      const row = Buffer.alloc(1 + width * spp * bps);
      for (let i = 0; i < width * spp; i++) {
        const v = samples[y * width * spp + i]!;
        if (bps === 2) row.writeUInt16BE(v, 1 + 2 * i);
        else row[1 + i] = v;
      }
      rows.push(row);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colourType;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    ...extra,
    pngChunk('IDAT', deflateSync(Buffer.concat(rows))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

async function decoded(buf: Buffer): Promise<{ w: number; h: number; px: number[] }> {
  const img = await decodeImageRgb(buf);
  expect(img.channels).toBe(3);
  return { w: img.width, h: img.height, px: Array.from(img.data) };
}

describe('decoding as Pillow exif_transpose + convert("RGB")', () => {
  it('RGB is read as is', async () => {
    expect(await decoded(png(2, 1, 2, 8, [1, 2, 3, 250, 251, 252]))).toEqual({ w: 2, h: 1, px: [1, 2, 3, 250, 251, 252] });
  });

  it('RGBA drops alpha without compositing (even where alpha is 0)', async () => {
    expect((await decoded(png(2, 1, 6, 8, [1, 2, 3, 0, 250, 251, 252, 7]))).px).toEqual([1, 2, 3, 250, 251, 252]);
  });

  it('grey (8-bit and 2-bit) and grey+alpha are replicated to R = G = B', async () => {
    expect((await decoded(png(3, 1, 0, 8, [0, 77, 255]))).px).toEqual([0, 0, 0, 77, 77, 77, 255, 255, 255]);
    // 2-bit samples 0,1,2,3 scale to 0,85,170,255 (Pillow's L;2 unpacking)
    expect((await decoded(png(4, 1, 0, 2, [0b00011011]))).px).toEqual([0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255]);
    expect((await decoded(png(2, 1, 4, 8, [10, 128, 200, 0]))).px).toEqual([10, 10, 10, 200, 200, 200]);
  });

  it('palette images look colours up; tRNS transparency is dropped', async () => {
    const plte = pngChunk('PLTE', Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect((await decoded(png(3, 1, 3, 8, [2, 0, 1], [plte])))).toEqual({ w: 3, h: 1, px: [7, 8, 9, 1, 2, 3, 4, 5, 6] });
    const trns = pngChunk('tRNS', Buffer.from([0, 128]));
    expect((await decoded(png(3, 1, 3, 8, [2, 0, 1], [plte, trns]))).px).toEqual([7, 8, 9, 1, 2, 3, 4, 5, 6]);
  });

  it('16-bit RGB, RGBA and grey+alpha keep the high byte', async () => {
    expect((await decoded(png(2, 1, 2, 16, [0x1234, 0xfedc, 0x00ff, 0x8000, 0x7fff, 0xffff]))).px).toEqual([0x12, 0xfe, 0x00, 0x80, 0x7f, 0xff]);
    expect((await decoded(png(1, 1, 6, 16, [0x1234, 0xfedc, 0x00ff, 0x0001]))).px).toEqual([0x12, 0xfe, 0x00]);
    expect((await decoded(png(2, 1, 4, 16, [0x1234, 0xffff, 0xff00, 0x0001]))).px).toEqual([0x12, 0x12, 0x12, 0xff, 0xff, 0xff]);
  });

  it('16-bit grey is clipped to 255, not scaled (Pillow I;16 → RGB)', async () => {
    expect((await decoded(png(5, 1, 0, 16, [0, 200, 255, 256, 65535]))).px).toEqual([0, 0, 0, 200, 200, 200, 255, 255, 255, 255, 255, 255, 255, 255, 255]);
  });

  describe('EXIF orientation is applied (ImageOps.exif_transpose)', () => {
    // 3×2 source, one distinct red value per pixel: in[y][x] = 10·(3y + x + 1)
    const W = 3;
    const H = 2;
    const src = (y: number, x: number) => 10 * (3 * y + x + 1);
    const raw = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) raw[(y * W + x) * 3] = src(y, x);
    // out[r][c] for each orientation, with the output's width and height
    const expected: Record<number, { w: number; h: number; f: (r: number, c: number) => number }> = {
      1: { w: 3, h: 2, f: (r, c) => src(r, c) },
      2: { w: 3, h: 2, f: (r, c) => src(r, W - 1 - c) }, // mirror left-right
      3: { w: 3, h: 2, f: (r, c) => src(H - 1 - r, W - 1 - c) }, // rotate 180
      4: { w: 3, h: 2, f: (r, c) => src(H - 1 - r, c) }, // mirror top-bottom
      5: { w: 2, h: 3, f: (r, c) => src(c, r) }, // transpose
      6: { w: 2, h: 3, f: (r, c) => src(H - 1 - c, r) }, // rotate 90° clockwise
      7: { w: 2, h: 3, f: (r, c) => src(H - 1 - c, W - 1 - r) }, // transverse
      8: { w: 2, h: 3, f: (r, c) => src(c, W - 1 - r) }, // rotate 90° anticlockwise
    };
    for (const o of [1, 2, 3, 4, 5, 6, 7, 8]) {
      it(`orientation ${o}`, async () => {
        const file = await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).png().withMetadata({ orientation: o }).toBuffer();
        const img = await decodeImageRgb(file);
        const e = expected[o]!;
        expect([img.width, img.height]).toEqual([e.w, e.h]);
        const red = Array.from({ length: e.h }, (_, r) => Array.from({ length: e.w }, (_, c) => img.data[(r * e.w + c) * 3]));
        expect(red).toEqual(Array.from({ length: e.h }, (_, r) => Array.from({ length: e.w }, (_, c) => e.f(r, c))));
      });
    }
  });

  it('bytes that are not an image are IMAGE_DECODE; a truncated PNG too; a missing file is IMAGE_FILE naming its path', async () => {
    const bad = await asyncCodeOf(decodeImageRgb(Buffer.from('not an image')));
    expect([bad.code, bad.source]).toEqual(['IMAGE_DECODE', '<buffer>']);
    const whole = png(8, 8, 2, 8, new Array(8 * 8 * 3).fill(7));
    const truncated = await asyncCodeOf(decodeImageRgb(whole.subarray(0, whole.length - 20)));
    expect(truncated.code).toBe('IMAGE_DECODE');
    const missing = await asyncCodeOf(decodeImageRgb('/nonexistent/dir/x.png'));
    expect([missing.code, missing.source]).toEqual(['IMAGE_FILE', '/nonexistent/dir/x.png']);
  });

  it('reads a file path inside the allowed roots, refuses one outside them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qwen-img-'));
    try {
      const file = join(dir, 'a.png');
      await writeFile(file, png(2, 1, 2, 8, [1, 2, 3, 4, 5, 6]));
      expect(Array.from((await decodeImageRgb(file)).data)).toEqual([1, 2, 3, 4, 5, 6]);
      const outside = await asyncCodeOf(decodeImageRgb(file, { roots: [join(dir, 'elsewhere')] }));
      expect(outside.code).toBe('IMAGE_FILE');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('formats other than PNG/JPEG are IMAGE_UNSUPPORTED', async () => {
    const webp = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#102030' } }).webp().toBuffer();
    expect((await asyncCodeOf(decodeImageRgb(webp))).code).toBe('IMAGE_UNSUPPORTED');
  });
});

// ---------------------------------------------------------------------------
// End to end
// ---------------------------------------------------------------------------

describe('processQwenImage', () => {
  it('a 30×20 PNG becomes 84×56 (smart_resize), 24 patches of 1176, each value from the Pillow-resized pixels', async () => {
    const W = 30;
    const H = 20;
    const rgb = new Uint8Array(W * H * 3).map((_, i) => (i * 37 + 11) % 256);
    const file = png(W, H, 2, 8, Array.from(rgb));
    const out = await processQwenImage(file);
    expect(out.gridThw).toEqual([1, 4, 6]);
    expect([out.resizedHeight, out.resizedWidth, out.numPatches, out.patchDim]).toEqual([56, 84, 24, 1176]);
    expect(out.pixelValues.length).toBe(24 * 1176);
    // Patch row 5 = block (0, 1), patch (0, 1): top-left pixel (y 0, x 42); column 392 + 15 = channel 1, frame 0, (py 1, px 1).
    const resized = pillowResize({ data: rgb, width: W, height: H, channels: 3 }, 84, 56, 'bicubic');
    const p = resized.data[(1 * 84 + 43) * 3 + 1]!;
    const expected = Math.fround(Math.fround(Math.fround(p / 255) - Math.fround(OPENAI_CLIP_MEAN[1]!)) / Math.fround(OPENAI_CLIP_STD[1]!));
    expect(out.pixelValues[5 * 1176 + 392 + 15]).toBe(expected);
    expect(out.pixelValues[5 * 1176 + 392 + 196 + 15]).toBe(expected); // the repeated frame
  });

  it('aspect ratio over 200 is IMAGE_ASPECT_RATIO naming the source, not a stack of library frames', async () => {
    const err = await asyncCodeOf(processQwenImage(png(1, 201, 0, 8, new Array(201).fill(9))));
    expect([err.code, err.source]).toEqual(['IMAGE_ASPECT_RATIO', '<buffer>']);
    expect(err.message).toMatch(/aspect ratio/);
  });

  it('honours a parsed config (bilinear, smaller max_pixels)', async () => {
    const cfg = parseQwen2VLPreprocessorConfig({ resample: 2, max_pixels: 28 * 28 * 4 });
    const img: Uint8Image = { data: new Uint8Array(100 * 100 * 3).fill(128), width: 100, height: 100, channels: 3 };
    const out = preprocessRgb(img, cfg);
    expect(out.gridThw).toEqual([1, 4, 4]);
  });
});
