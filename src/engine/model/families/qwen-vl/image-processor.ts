/**
 * The image processor of Qwen2-VL and Qwen2.5-VL checkpoints, as transformers'
 * `Qwen2VLImageProcessor` computes it on its Pillow path (not the torchvision
 * "fast" processor). Every rule, and where it comes from upstream, is in
 * docs/image-processing-qwen-vl.md. In short:
 *
 *   decode → EXIF transpose → Pillow `convert("RGB")` → smart_resize (factor
 *   patch·merge) → Pillow BICUBIC resize on uint8 → rescale (float64 product,
 *   stored float32) → normalise in float32 → repeat the still image
 *   temporal_patch_size times → patches in merge-block order, each row
 *   (channel, frame, y, x).
 *
 * Images keep their own size: the number of patches depends on the image.
 */
import { dirname } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { FileAccessError, readConfinedFile, type AllowedRoots } from '../../../fs/confined-files.js';
import { pillowResize, type PillowFilter, type PillowResizeOptions, type Uint8Image } from './pillow-resize.js';

/** What went wrong; stable strings callers may branch on. */
export type QwenImageErrorCode =
  /** max(h, w) / min(h, w) > 200: transformers' smart_resize raises. */
  | 'IMAGE_ASPECT_RATIO'
  /** smart_resize cannot give a non-empty size (or, with `legacySmallImageCheck`, a side is under the factor). */
  | 'IMAGE_TOO_SMALL'
  /** The file may not or cannot be opened (outside the allowed roots, missing, not a regular file); see `cause`. */
  | 'IMAGE_FILE'
  /** The bytes are not a decodable PNG/JPEG (unknown format, truncated, corrupt). */
  | 'IMAGE_DECODE'
  /** Decodable, but not a format or colour space handled here as Pillow would (e.g. CMYK JPEG, GIF). */
  | 'IMAGE_UNSUPPORTED'
  /** do_resize is false and the image's sides are not multiples of patch_size × merge_size. */
  | 'IMAGE_NOT_DIVISIBLE'
  /** preprocessor_config.json has a value transformers would reject or that is not supported here. */
  | 'IMAGE_CONFIG';

/** An image or preprocessor config that cannot be processed; `code` says why, `source` names the file (or `<buffer>`). */
export class QwenImageError extends Error {
  override readonly name = 'QwenImageError';
  readonly code: QwenImageErrorCode;
  readonly source: string | undefined;

  constructor(code: QwenImageErrorCode, message: string, options?: { source?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.source = options?.source;
  }
}

/** OPENAI_CLIP_MEAN / OPENAI_CLIP_STD of transformers' image_utils.py, the class defaults. */
export const OPENAI_CLIP_MEAN: readonly number[] = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_CLIP_STD: readonly number[] = [0.26862954, 0.26130258, 0.27577711];

/** The resolved settings of one Qwen2-VL image processor (preprocessor_config.json after defaults). */
export interface Qwen2VLImageProcessorConfig {
  readonly doResize: boolean;
  /** Pillow filter of `resample` (transformers' default 3 = BICUBIC). */
  readonly resample: PillowFilter;
  /** size.shortest_edge / min_pixels: lower bound on resized h·w. */
  readonly minPixels: number;
  /** size.longest_edge / max_pixels: upper bound on resized h·w. */
  readonly maxPixels: number;
  readonly patchSize: number;
  readonly temporalPatchSize: number;
  readonly mergeSize: number;
  readonly doRescale: boolean;
  readonly rescaleFactor: number;
  readonly doNormalize: boolean;
  /** Per channel (a scalar in the JSON is repeated over the 3 channels). */
  readonly imageMean: readonly number[];
  readonly imageStd: readonly number[];
  readonly doConvertRgb: boolean;
}

/** The class defaults of `Qwen2VLImageProcessor` (used for every key absent from preprocessor_config.json). */
export const QWEN2VL_IMAGE_PROCESSOR_DEFAULTS: Qwen2VLImageProcessorConfig = Object.freeze({
  doResize: true,
  resample: 'bicubic',
  minPixels: 56 * 56,
  maxPixels: 28 * 28 * 1280,
  patchSize: 14,
  temporalPatchSize: 2,
  mergeSize: 2,
  doRescale: true,
  rescaleFactor: 1 / 255,
  doNormalize: true,
  imageMean: OPENAI_CLIP_MEAN,
  imageStd: OPENAI_CLIP_STD,
  doConvertRgb: true,
});

/** PIL.Image.Resampling values as saved in preprocessor_config.json; NEAREST (0) is not a convolution and is not supported. */
const RESAMPLE_BY_CODE: Record<number, PillowFilter> = { 1: 'lanczos', 2: 'bilinear', 3: 'bicubic', 4: 'box', 5: 'hamming' };

function configError(message: string): QwenImageError {
  return new QwenImageError('IMAGE_CONFIG', `preprocessor_config.json: ${message}`);
}

function readPositiveInt(obj: Record<string, unknown>, key: string, fallback: number): number {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw configError(`'${key}' must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function readPixels(v: unknown, key: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw configError(`'${key}' must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

function readBool(obj: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw configError(`'${key}' must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function readChannelStats(obj: Record<string, unknown>, key: string, fallback: readonly number[]): readonly number[] {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number' && Number.isFinite(v)) return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) return v as number[];
  throw configError(`'${key}' must be a number or a list of 3 numbers (one per RGB channel), got ${JSON.stringify(v)}`);
}

/**
 * Resolves a parsed preprocessor_config.json the way transformers'
 * `Qwen2VLImageProcessor.__init__` does (docs/image-processing-qwen-vl.md, "Configuration"):
 * top-level `min_pixels`/`max_pixels` override `size.shortest_edge`/`size.longest_edge`;
 * a `size` without both keys is an error unless the top-level pair supplies them;
 * absent keys take the class defaults; unknown keys (image_processor_type, processor_class, …) are ignored.
 * @throws QwenImageError IMAGE_CONFIG for a value transformers would reject or that is unsupported here
 */
export function parseQwen2VLPreprocessorConfig(json: unknown): Qwen2VLImageProcessorConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw configError('expected a JSON object');
  const obj = json as Record<string, unknown>;
  const d = QWEN2VL_IMAGE_PROCESSOR_DEFAULTS;

  let minPixels = d.minPixels;
  let maxPixels = d.maxPixels;
  const size = obj['size'];
  const topMin = readPixels(obj['min_pixels'], 'min_pixels');
  const topMax = readPixels(obj['max_pixels'], 'max_pixels');
  if (size !== undefined && size !== null) {
    if (typeof size !== 'object' || Array.isArray(size)) throw configError(`'size' must be an object, got ${JSON.stringify(size)}`);
    const s = size as Record<string, unknown>;
    // Newer spelling {shortest_edge, longest_edge}; the first releases saved {min_pixels, max_pixels}.
    const sMin = readPixels(s['shortest_edge'], 'size.shortest_edge') ?? readPixels(s['min_pixels'], 'size.min_pixels');
    const sMax = readPixels(s['longest_edge'], 'size.longest_edge') ?? readPixels(s['max_pixels'], 'size.max_pixels');
    const resolvedMin = topMin ?? sMin;
    const resolvedMax = topMax ?? sMax;
    if (resolvedMin === undefined || resolvedMax === undefined) {
      throw configError(`'size' must contain 'shortest_edge' and 'longest_edge', got ${JSON.stringify(size)}`);
    }
    minPixels = resolvedMin;
    maxPixels = resolvedMax;
  } else {
    minPixels = topMin ?? minPixels;
    maxPixels = topMax ?? maxPixels;
  }

  let resample = d.resample;
  const r = obj['resample'];
  if (r !== undefined && r !== null) {
    const f = typeof r === 'number' ? RESAMPLE_BY_CODE[r] : undefined;
    if (!f) throw configError(`'resample' ${JSON.stringify(r)} is not supported (1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING)`);
    resample = f;
  }

  const rf = obj['rescale_factor'];
  let rescaleFactor = d.rescaleFactor;
  if (rf !== undefined && rf !== null) {
    if (typeof rf !== 'number' || !Number.isFinite(rf)) throw configError(`'rescale_factor' must be a number, got ${JSON.stringify(rf)}`);
    rescaleFactor = rf;
  }

  return {
    doResize: readBool(obj, 'do_resize', d.doResize),
    resample,
    minPixels,
    maxPixels,
    patchSize: readPositiveInt(obj, 'patch_size', d.patchSize),
    temporalPatchSize: readPositiveInt(obj, 'temporal_patch_size', d.temporalPatchSize),
    mergeSize: readPositiveInt(obj, 'merge_size', d.mergeSize),
    doRescale: readBool(obj, 'do_rescale', d.doRescale),
    rescaleFactor,
    doNormalize: readBool(obj, 'do_normalize', d.doNormalize),
    imageMean: readChannelStats(obj, 'image_mean', d.imageMean),
    imageStd: readChannelStats(obj, 'image_std', d.imageStd),
    doConvertRgb: readBool(obj, 'do_convert_rgb', d.doConvertRgb),
  };
}

/** Python 3's `round(x)` for a float: nearest integer, ties to even. */
export function pythonRound(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export interface SmartResizeOptions {
  /** patch_size × merge_size (28 for Qwen2-VL / Qwen2.5-VL). */
  readonly factor: number;
  readonly minPixels: number;
  readonly maxPixels: number;
  /**
   * Older transformers releases raised when a side was under `factor` and did not
   * clamp the downscaled sides to at least `factor`. Default false (current behaviour).
   */
  readonly legacySmallImageCheck?: boolean;
}

/**
 * transformers' `smart_resize(height, width, factor, min_pixels, max_pixels)`:
 * both sides multiples of `factor`, h·w within [min_pixels, max_pixels], aspect kept.
 * JavaScript doubles reproduce Python's float arithmetic here operation for operation.
 * @returns [resizedHeight, resizedWidth]
 * @throws QwenImageError IMAGE_ASPECT_RATIO when max/min side > 200; IMAGE_TOO_SMALL when a side is 0 (or would be)
 */
export function smartResize(height: number, width: number, options: SmartResizeOptions): [number, number] {
  const { factor, minPixels, maxPixels } = options;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new QwenImageError('IMAGE_TOO_SMALL', `image is ${width}×${height} pixels; both sides must be at least 1`);
  }
  if (options.legacySmallImageCheck && (height < factor || width < factor)) {
    throw new QwenImageError('IMAGE_TOO_SMALL', `height:${height} or width:${width} must be larger than factor:${factor}`);
  }
  const ratio = Math.max(height, width) / Math.min(height, width);
  if (ratio > 200) {
    throw new QwenImageError('IMAGE_ASPECT_RATIO', `absolute aspect ratio must be smaller than 200, got ${ratio} (image ${width}×${height})`);
  }
  let hBar = pythonRound(height / factor) * factor;
  let wBar = pythonRound(width / factor) * factor;
  if (hBar * wBar > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    hBar = Math.floor(height / beta / factor) * factor;
    wBar = Math.floor(width / beta / factor) * factor;
    if (!options.legacySmallImageCheck) {
      hBar = Math.max(factor, hBar);
      wBar = Math.max(factor, wBar);
    }
  } else if (hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    hBar = Math.ceil((height * beta) / factor) * factor;
    wBar = Math.ceil((width * beta) / factor) * factor;
  }
  if (hBar < 1 || wBar < 1) {
    throw new QwenImageError('IMAGE_TOO_SMALL', `image ${width}×${height} resizes to ${wBar}×${hBar} (min_pixels ${minPixels}, max_pixels ${maxPixels}); Pillow cannot resize to an empty image`);
  }
  return [hBar, wBar];
}

/** The model inputs of one image. */
export interface QwenVisionInput {
  /** float32 `[numPatches, channels · temporalPatchSize · patchSize · patchSize]`, row-major. */
  readonly pixelValues: Float32Array;
  /** `image_grid_thw`: [grid_t, grid_h, grid_w] in patches; numPatches = t·h·w. */
  readonly gridThw: readonly [number, number, number];
  readonly numPatches: number;
  readonly patchDim: number;
  /** The size the image was resized to (pixels). */
  readonly resizedHeight: number;
  readonly resizedWidth: number;
}

export interface PreprocessOptions {
  /** See SmartResizeOptions.legacySmallImageCheck. */
  readonly legacySmallImageCheck?: boolean;
  /** See PillowResizeOptions.tallImagesVerticalFirst (Pillow ≥ 12.2 behaviour by default). */
  readonly pillow?: PillowResizeOptions;
}

/**
 * Everything after decoding: smart_resize, Pillow resize, rescale, normalise, patchify.
 * `image` is interleaved RGB uint8 (what `decodeImageRgb` returns).
 * @throws QwenImageError IMAGE_ASPECT_RATIO | IMAGE_TOO_SMALL | IMAGE_NOT_DIVISIBLE
 */
export function preprocessRgb(image: Uint8Image, config: Qwen2VLImageProcessorConfig, options: PreprocessOptions = {}): QwenVisionInput {
  if (image.channels !== 3) throw new RangeError(`expected an RGB image (3 channels), got ${image.channels}`);
  const { patchSize: P, mergeSize: M, temporalPatchSize: T } = config;
  const factor = P * M;
  let resized = image;
  if (config.doResize) {
    const [h, w] = smartResize(image.height, image.width, {
      factor,
      minPixels: config.minPixels,
      maxPixels: config.maxPixels,
      legacySmallImageCheck: options.legacySmallImageCheck ?? false,
    });
    resized = pillowResize(image, w, h, config.resample, options.pillow);
  } else if (image.height % factor !== 0 || image.width % factor !== 0) {
    throw new QwenImageError('IMAGE_NOT_DIVISIBLE', `do_resize is false and the image is ${image.width}×${image.height}, not a multiple of ${factor} (patch_size × merge_size) on both sides`);
  }
  const values = rescaleAndNormalize(resized, config);
  return patchify(values, resized.height, resized.width, 3, P, M, T);
}

/**
 * `rescale` then `normalize` of transformers' image_transforms.py, interleaved HWC in and out:
 * rescale computes `float64(pixel) · rescale_factor` and stores float32;
 * normalize casts mean/std to float32 and computes `(x − mean) / std` in float32.
 * With do_rescale false, normalise starts from the uint8 value as float32.
 */
export function rescaleAndNormalize(image: Uint8Image, config: Pick<Qwen2VLImageProcessorConfig, 'doRescale' | 'rescaleFactor' | 'doNormalize' | 'imageMean' | 'imageStd'>): Float32Array {
  const c = image.channels;
  const n = image.width * image.height;
  const out = new Float32Array(n * c);
  const scale = config.rescaleFactor;
  const mean = config.imageMean.map(Math.fround);
  const std = config.imageStd.map(Math.fround);
  if (config.doNormalize && (mean.length !== c || std.length !== c)) {
    throw new QwenImageError('IMAGE_CONFIG', `image_mean/image_std have ${mean.length}/${std.length} values for a ${c}-channel image`);
  }
  for (let i = 0; i < n * c; i++) {
    let x = image.data[i]!;
    if (config.doRescale) x = Math.fround(x * scale);
    if (config.doNormalize) {
      const ch = i % c;
      x = Math.fround(Math.fround(x - mean[ch]!) / std[ch]!);
    }
    out[i] = x;
  }
  return out;
}

/**
 * The patch layout of `Qwen2VLImageProcessor._preprocess` for one still image:
 * the frame is repeated T times (grid_t = 1); rows run over merge blocks
 * (block row, block column) and, inside a block, over (row, column) of its
 * M×M patches; each row holds (channel, frame, y, x) of one P×P patch.
 * @param values interleaved HWC float32 pixel values
 */
export function patchify(values: Float32Array, height: number, width: number, channels: number, P: number, M: number, T: number): QwenVisionInput {
  const gridH = height / P;
  const gridW = width / P;
  if (!Number.isInteger(gridH / M) || !Number.isInteger(gridW / M)) {
    throw new QwenImageError('IMAGE_NOT_DIVISIBLE', `image ${width}×${height} is not a multiple of ${P * M} on both sides`);
  }
  const numPatches = gridH * gridW;
  const patchDim = channels * T * P * P;
  const out = new Float32Array(numPatches * patchDim);
  let o = 0;
  for (let bh = 0; bh < gridH / M; bh++) {
    for (let bw = 0; bw < gridW / M; bw++) {
      for (let mh = 0; mh < M; mh++) {
        for (let mw = 0; mw < M; mw++) {
          const y0 = (bh * M + mh) * P;
          const x0 = (bw * M + mw) * P;
          for (let ch = 0; ch < channels; ch++) {
            for (let t = 0; t < T; t++) {
              for (let py = 0; py < P; py++) {
                let src = ((y0 + py) * width + x0) * channels + ch;
                for (let px = 0; px < P; px++, src += channels) out[o++] = values[src]!;
              }
            }
          }
        }
      }
    }
  }
  return { pixelValues: out, gridThw: [1, gridH, gridW], numPatches, patchDim, resizedHeight: height, resizedWidth: width };
}

/** Where a path may be read from: a file must be a regular file whose real path lies inside one of `roots` (default: its own folder). */
export interface ImageReadOptions {
  readonly roots?: AllowedRoots;
}

async function readImageBytes(input: string | Uint8Array, options: ImageReadOptions): Promise<{ bytes: Buffer; source: string }> {
  if (typeof input !== 'string') return { bytes: Buffer.from(input.buffer, input.byteOffset, input.byteLength), source: '<buffer>' };
  try {
    return { bytes: await readConfinedFile(input, options.roots ?? [dirname(input)]), source: input };
  } catch (e) {
    if (!(e instanceof FileAccessError)) throw e;
    throw new QwenImageError('IMAGE_FILE', `cannot read image: ${e.message}`, { source: input, cause: e });
  }
}

/**
 * Decodes a PNG or JPEG as Pillow + transformers' `load_image` would see it:
 * `ImageOps.exif_transpose`, then `convert("RGB")` — alpha dropped without
 * compositing, grey replicated, palette looked up, 16-bit RGB(A)/LA reduced to
 * the high byte, 16-bit grey clipped to 255 (Pillow's I;16 → RGB). Embedded ICC
 * profiles are ignored, as Pillow ignores them. Messages never quote libvips'
 * text (it stays in `cause`).
 * @throws QwenImageError IMAGE_FILE (path not readable) | IMAGE_DECODE (not decodable) | IMAGE_UNSUPPORTED (not PNG/JPEG, CMYK)
 */
export async function decodeImageRgb(input: string | Uint8Array, options: ImageReadOptions = {}): Promise<Uint8Image> {
  const { bytes, source } = await readImageBytes(input, options);
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { ignoreIcc: true }).metadata();
  } catch (e) {
    throw new QwenImageError('IMAGE_DECODE', `image ${source} is of unknown format; only PNG and JPEG are supported`, { source, cause: e });
  }
  if (meta.format !== 'png' && meta.format !== 'jpeg') {
    throw new QwenImageError('IMAGE_UNSUPPORTED', `image ${source} is ${meta.format ?? 'of unknown format'}; only PNG and JPEG are supported`, { source });
  }
  if (meta.space === 'cmyk') {
    throw new QwenImageError('IMAGE_UNSUPPORTED', `image ${source} is a CMYK JPEG; Pillow's CMYK→RGB conversion is not reproduced`, { source });
  }
  try {
    if (meta.space === 'grey16' && meta.channels === 1) {
      // Pillow opens 16-bit grey PNG as I;16 and convert("RGB") clips each value to 0..255.
      const { data, info } = await sharp(bytes, { ignoreIcc: true }).autoOrient().toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
      const grey = new Uint16Array(data.buffer, data.byteOffset, info.width * info.height);
      const rgb = new Uint8Array(info.width * info.height * 3);
      for (let i = 0; i < grey.length; i++) {
        const v = grey[i]! > 255 ? 255 : grey[i]!;
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = v;
      }
      return { data: rgb, width: info.width, height: info.height, channels: 3 };
    }
    // libvips hands back sRGB bands (grey replicated, palette expanded, 16-bit → high byte) plus alpha if any.
    const { data, info } = await sharp(bytes, { ignoreIcc: true }).autoOrient().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const c = info.channels;
    if (c !== 3 && c !== 4) throw new Error(`decoded to ${c} channels`);
    const n = info.width * info.height;
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      rgb[3 * i] = data[c * i]!;
      rgb[3 * i + 1] = data[c * i + 1]!;
      rgb[3 * i + 2] = data[c * i + 2]!;
    }
    return { data: rgb, width: info.width, height: info.height, channels: 3 };
  } catch (e) {
    throw new QwenImageError('IMAGE_DECODE', `image ${source} cannot be decoded as ${meta.format.toUpperCase()} (truncated or corrupt)`, { source, cause: e });
  }
}

/**
 * The whole pipeline for one image file or its bytes: decode (decodeImageRgb), then preprocessRgb.
 * @throws QwenImageError (never a bare library error)
 */
export async function processQwenImage(
  input: string | Uint8Array,
  config: Qwen2VLImageProcessorConfig = QWEN2VL_IMAGE_PROCESSOR_DEFAULTS,
  options: PreprocessOptions & ImageReadOptions = {},
): Promise<QwenVisionInput> {
  const rgb = await decodeImageRgb(input, options);
  try {
    return preprocessRgb(rgb, config, options);
  } catch (e) {
    if (e instanceof QwenImageError) {
      if (e.source !== undefined) throw e;
      throw new QwenImageError(e.code, e.message, { source: typeof input === 'string' ? input : '<buffer>', cause: e });
    }
    throw e;
  }
}
