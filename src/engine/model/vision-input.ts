/**
 * What the vision tower takes, whatever the family's image processor: an
 * image's patch rows in merge-block order and its patch grid. Images keep
 * their own grids (Qwen-VL) or share one fixed grid (frankenscope_vl).
 */
import type { FixedImageGeometry, VisionConfig } from './config.js';

/** An image's patch grid: frames (temporal patches), rows and columns of patches. */
export interface PatchGrid {
  t: number;
  h: number;
  w: number;
}

/** One image ready for the vision tower. */
export interface VisionImage {
  /** [t·h·w, C·tp·p·p] patch rows in merge-block order, each (channel, frame, y, x) */
  patches: Float32Array;
  grid: PatchGrid;
}

/** Visual tokens an image contributes to the prompt: t·h·w / merge². */
export function visualTokenCount(grid: PatchGrid, mergeSize: number): number {
  return grid.t * (grid.h / mergeSize) * (grid.w / mergeSize);
}

/** Values in one patch row. */
export function patchWidth(v: VisionConfig): number {
  return v.inChannels * v.temporalPatchSize * v.patchSize * v.patchSize;
}

/** The fixed geometry of a `frankenscope_vl` vision config. @throws TypeError for a family whose images keep their own size */
export function fixedGeometry(v: VisionConfig): FixedImageGeometry {
  if (!v.fixed) throw new TypeError(`this vision tower has no fixed image size: its images go through the model's image processor`);
  return v.fixed;
}

/**
 * Patch rows of a planar [C, h, w] image (docs/model.md, "Patch order"): for
 * block row bh, block column bw, then i, j < m, the patch at row bh·m + i and
 * column bw·m + j; each still image repeated over the tp frames.
 */
export function planarToPatches(pixels: Float32Array, height: number, width: number, v: VisionConfig): VisionImage {
  const { patchSize: p, temporalPatchSize: tp, spatialMergeSize: m, inChannels: C } = v;
  const rows = height / p;
  const cols = width / p;
  if (!Number.isInteger(rows / m) || !Number.isInteger(cols / m)) {
    throw new RangeError(`an image of ${height}x${width} pixels does not divide into ${p * m}-pixel merge blocks`);
  }
  if (pixels.length !== C * height * width) throw new RangeError(`'pixels' has ${pixels.length} values; [${C}, ${height}, ${width}] needs ${C * height * width}`);
  const plane = height * width;
  const K = C * tp * p * p;
  const out = new Float32Array(rows * cols * K);
  let n = 0;
  for (let bh = 0; bh < rows / m; bh++) {
    for (let bw = 0; bw < cols / m; bw++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++, n++) {
          const r = bh * m + i;
          const c = bw * m + j;
          let o = n * K;
          for (let ch = 0; ch < C; ch++) {
            for (let t = 0; t < tp; t++) {
              for (let y = 0; y < p; y++) {
                const src = ch * plane + (r * p + y) * width + c * p;
                for (let x = 0; x < p; x++) out[o++] = pixels[src + x]!;
              }
            }
          }
        }
      }
    }
  }
  return { patches: out, grid: { t: 1, h: rows, w: cols } };
}

/** A `frankenscope_vl` image tensor [C, h, w] at the model's fixed size as a {@link VisionImage}. */
export function fixedImage(pixels: Float32Array, v: VisionConfig): VisionImage {
  const [h, w] = fixedGeometry(v).imageSize;
  return planarToPatches(pixels, h, w, v);
}
