/**
 * Images for a model, by its family: the fixed-size bilinear preprocessing of
 * `frankenscope_vl` (image.ts) or the Qwen-VL image processor
 * (families/qwen-vl/image-processor.ts), both ending as patch rows and a grid.
 */
import type { AllowedRoots } from '../fs/confined-files.js';
import type { ModelConfig, VisionConfig } from './config.js';
import { decodeImageRgb, patchify, processQwenImage, rescaleAndNormalize } from './families/qwen-vl/image-processor.js';
import { pillowResize } from './families/qwen-vl/pillow-resize.js';
import { blackImage, loadImage } from './image.js';
import { fixedImage, type PatchGrid, type VisionImage } from './vision-input.js';

function visionOf(config: ModelConfig): VisionConfig {
  if (!config.vision) throw new TypeError(`model_type "${config.modelType}" has no vision tower to take an image`);
  return config.vision;
}

/**
 * One image file (or its bytes) as the model's vision tower takes it. A path
 * must be a regular file whose real path lies inside `options.roots` (default: its folder).
 * @throws ImageError (fixed-size models) or QwenImageError (Qwen-VL) naming the file and the reason
 */
export async function loadVisionImage(input: string | Buffer, config: ModelConfig, options: { roots?: AllowedRoots } = {}): Promise<VisionImage> {
  const v = visionOf(config);
  if (v.fixed) return fixedImage(await loadImage(input, v, options), v);
  const processed = await processQwenImage(input, v.processor!, options);
  const [t, h, w] = processed.gridThw;
  return { patches: processed.pixelValues, grid: { t, h, w } };
}

/**
 * One image processed at another image's processed size instead of its own
 * (the visual-token swap pairs images whose grids may differ: the source is
 * brought to the target's grid, then swapped). The processor's own resize
 * filter and normalisation apply; only the choice of size differs. A
 * fixed-size model already processes every image to one size.
 */
export async function loadVisionImageAt(input: string | Buffer, grid: PatchGrid, config: ModelConfig, options: { roots?: AllowedRoots } = {}): Promise<VisionImage> {
  const v = visionOf(config);
  if (v.fixed) return loadVisionImage(input, config, options);
  const processor = v.processor!;
  const height = grid.h * v.patchSize;
  const width = grid.w * v.patchSize;
  const rgb = await decodeImageRgb(input, options);
  const sized = rgb.height === height && rgb.width === width ? rgb : pillowResize(rgb, width, height, processor.resample);
  const processed = patchify(rescaleAndNormalize(sized, processor), height, width, 3, v.patchSize, v.spatialMergeSize, v.temporalPatchSize);
  return { patches: processed.pixelValues, grid };
}

/**
 * The perception setting's black image: all-zero RGB before normalisation, at
 * the size `like` was processed to (images of their own size) or the model's
 * fixed size, so the prompt keeps the same number of visual tokens.
 */
export function blackVisionImage(config: ModelConfig, like?: VisionImage): VisionImage {
  const v = visionOf(config);
  if (v.fixed) return fixedImage(blackImage(v), v);
  if (!like) throw new TypeError(`a black image for model_type "${config.modelType}" needs the image whose processed size it takes`);
  const processor = v.processor!;
  const height = like.grid.h * v.patchSize;
  const width = like.grid.w * v.patchSize;
  const values = rescaleAndNormalize({ data: new Uint8Array(height * width * 3), width, height, channels: 3 }, processor);
  const black = patchify(values, height, width, 3, v.patchSize, v.spatialMergeSize, v.temporalPatchSize);
  return { patches: black.pixelValues, grid: like.grid };
}
