/**
 * Image preprocessing (docs/model.md, "Image preprocessing"): decode PNG or
 * JPEG with sharp, resize to the model's image size, normalise per channel,
 * as a float32 [C, h, w] tensor. The resize is done here rather than by
 * libvips so its arithmetic is fixed and can be checked by hand.
 */
import { dirname } from 'node:path';
import sharp, { type OutputInfo } from 'sharp';
import { FileAccessError, readConfinedFile, type AllowedRoots } from '../fs/confined-files.js';
import type { FixedImageGeometry, VisionConfig } from './config.js';
import { fixedGeometry } from './vision-input.js';

/** An image that cannot be read or is not PNG/JPEG; `source` names the file (or `<buffer>`). */
export class ImageError extends Error {
  override readonly name = 'ImageError';
  readonly source: string;

  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.source = source;
  }
}

function requireVision(vision: VisionConfig | undefined): VisionConfig {
  if (!vision) throw new TypeError(`'vision' is undefined: the model has no vision tower (model_type "qwen2")`);
  if (vision.inChannels !== 3) throw new RangeError(`'vision.inChannels' is ${vision.inChannels}; images are decoded to 3 (RGB) channels`);
  return vision;
}

/**
 * Bilinear resampling of interleaved 8-bit pixels, separably, with half-pixel
 * centres. Downsampling widens the triangle filter by the scale factor so
 * every source pixel contributes (as Pillow's BILINEAR does); upsampling is
 * plain bilinear interpolation with edge clamping.
 * @returns float values (not rounded) in [0, 255], interleaved [outH, outW, channels]
 */
export function resizeBilinear(src: Uint8Array | Float64Array, inH: number, inW: number, channels: number, outH: number, outW: number): Float64Array {
  const horizontal = filterTaps(inW, outW);
  const vertical = filterTaps(inH, outH);
  const mid = new Float64Array(inH * outW * channels);
  for (let y = 0; y < inH; y++) {
    for (let x = 0; x < outW; x++) {
      const { first, weights } = horizontal[x]!;
      for (let ch = 0; ch < channels; ch++) {
        let s = 0;
        for (let k = 0; k < weights.length; k++) s += weights[k]! * src[(y * inW + first + k) * channels + ch]!;
        mid[(y * outW + x) * channels + ch] = s;
      }
    }
  }
  const out = new Float64Array(outH * outW * channels);
  for (let y = 0; y < outH; y++) {
    const { first, weights } = vertical[y]!;
    for (let x = 0; x < outW; x++) {
      for (let ch = 0; ch < channels; ch++) {
        let s = 0;
        for (let k = 0; k < weights.length; k++) s += weights[k]! * mid[((first + k) * outW + x) * channels + ch]!;
        out[(y * outW + x) * channels + ch] = s;
      }
    }
  }
  return out;
}

/** For each output index: the first input index and the normalised triangle weights. */
function filterTaps(inSize: number, outSize: number): { first: number; weights: Float64Array }[] {
  const scale = inSize / outSize;
  const width = Math.max(scale, 1);
  const taps: { first: number; weights: Float64Array }[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const first = Math.max(0, Math.trunc(centre - width + 0.5));
    const last = Math.min(inSize, Math.trunc(centre + width + 0.5));
    const weights = new Float64Array(last - first);
    let total = 0;
    for (let i = first; i < last; i++) {
      const w = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / width));
      weights[i - first] = w;
      total += w;
    }
    for (let k = 0; k < weights.length; k++) weights[k]! /= total;
    taps.push({ first, weights });
  }
  return taps;
}

/** Normalises interleaved [h, w, C] pixel values (0..255) into a planar [C, h, w] tensor. */
function normalise(pixels: Float64Array, vision: VisionConfig): Float32Array {
  const { imageSize: [h, w], imageMean, imageStd }: FixedImageGeometry = fixedGeometry(vision);
  const c = vision.inChannels;
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    const mean = imageMean[ch]!;
    const std = imageStd[ch]!;
    for (let i = 0; i < h * w; i++) out[ch * h * w + i] = (pixels[i * c + ch]! / 255 - mean) / std;
  }
  return out;
}

/**
 * Decodes PNG or JPEG bytes to interleaved 8-bit RGB, exactly as the model
 * will see them. Probe-set registration calls it too, so an image that
 * would fail every later analysis is refused before anything is stored.
 * @throws ImageError naming `source` when the bytes are neither PNG nor JPEG or do not decode
 */
export async function decodeImage(bytes: Buffer, source: string): Promise<{ data: Buffer; info: OutputInfo }> {
  let format: string | undefined;
  try {
    format = (await sharp(bytes).metadata()).format;
  } catch {
    // sharp's own text may quote library internals; the point for a client is the format
    throw new ImageError(source, `image ${source} is of unknown format; only PNG and JPEG are supported`);
  }
  if (format !== 'png' && format !== 'jpeg') {
    throw new ImageError(source, `image ${source} is ${format ?? 'of unknown format'}; only PNG and JPEG are supported`);
  }
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    // 16-bit PNGs are reduced to 8 bits so 'pixel / 255' holds for every input.
    decoded = await sharp(bytes).removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new ImageError(source, `image ${source} cannot be decoded as ${format.toUpperCase()} (truncated or corrupt)`, { cause: e });
  }
  if (decoded.info.channels !== 3) throw new ImageError(source, `image ${source} decoded to ${decoded.info.channels} channels, expected 3`);
  return decoded;
}

/**
 * Loads a PNG or JPEG file (or its bytes) as the model's input tensor [C, h, w]:
 * alpha dropped, greyscale expanded to RGB, bilinear resize to `vision.imageSize`
 * ignoring the aspect ratio, then (pixel/255 − mean[c]) / std[c]. A file must
 * be a regular file whose real path lies inside `options.roots` (default: its folder).
 * @throws ImageError naming the path when the file cannot be read or is neither PNG nor JPEG
 * @throws TypeError when the model has no vision config
 */
export async function loadImage(input: string | Buffer, vision: VisionConfig | undefined, options: { roots?: AllowedRoots } = {}): Promise<Float32Array> {
  const v = requireVision(vision);
  const source = typeof input === 'string' ? input : '<buffer>';
  let bytes: Buffer;
  if (typeof input === 'string') {
    try {
      bytes = await readConfinedFile(input, options.roots ?? [dirname(input)]);
    } catch (e) {
      if (!(e instanceof FileAccessError)) throw e;
      throw new ImageError(source, `cannot read image: ${e.message}`, { cause: e });
    }
  } else {
    bytes = input;
  }
  const decoded = await decodeImage(bytes, source);
  const { width, height } = decoded.info;
  const rgb = new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, width * height * 3);
  const [h, w] = fixedGeometry(v).imageSize;
  return normalise(resizeBilinear(rgb, height, width, 3, h, w), v);
}

/** The perception setting's black image: all-zero RGB before normalisation, so channel c holds −mean[c]/std[c]. */
export function blackImage(vision: VisionConfig | undefined): Float32Array {
  const v = requireVision(vision);
  const [h, w] = fixedGeometry(v).imageSize;
  return normalise(new Float64Array(h * w * v.inChannels), v);
}
