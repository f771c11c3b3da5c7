/**
 * Multimodal rotary positions of Qwen2-VL / Qwen2.5-VL (docs/model.md,
 * "M-RoPE"), as transformers' `get_rope_index` assigns them: text tokens
 * advance all three axes together; the tokens of an image share one temporal
 * position and take (row, column) offsets on the merged grid; text after an
 * image continues one past the largest position used so far.
 */

import type { PatchGrid } from '../../vision-input.js';

export type { PatchGrid } from '../../vision-input.js';

/** The three position streams (temporal, height, width) of one row of real tokens. */
export interface MropePositions {
  t: Int32Array;
  h: Int32Array;
  w: Int32Array;
  /** the position of the first generated token: one past the largest position of the prompt */
  next: number;
}

/** A prompt whose image tokens do not match its images. */
export class MropeLayoutError extends Error {
  override readonly name = 'MropeLayoutError';
}

/**
 * Positions of one row of real tokens (no padding). Images are matched to the
 * runs of `imageTokenId` in order. A still image has one temporal patch, so
 * all its tokens share the temporal position (Qwen2.5-VL's time scaling is
 * zero for images).
 * @throws MropeLayoutError when the runs of image tokens do not match `grids`
 */
export function mropePositions(ids: readonly number[], grids: readonly PatchGrid[], imageTokenId: number, mergeSize: number): MropePositions {
  const n = ids.length;
  const t = new Int32Array(n);
  const h = new Int32Array(n);
  const w = new Int32Array(n);
  let next = 0;
  let image = 0;
  let i = 0;
  while (i < n) {
    if (ids[i] !== imageTokenId) {
      t[i] = h[i] = w[i] = next++;
      i++;
      continue;
    }
    const grid = grids[image];
    if (!grid) throw new MropeLayoutError(`the prompt holds more runs of image tokens than the ${grids.length} image(s) given`);
    const rows = grid.h / mergeSize;
    const cols = grid.w / mergeSize;
    if (grid.t !== 1) throw new MropeLayoutError(`image ${image + 1} has ${grid.t} temporal patches; a still image has 1 (video input is not supported)`);
    const count = rows * cols;
    for (let k = 0; k < count; k++) {
      if (ids[i + k] !== imageTokenId) {
        throw new MropeLayoutError(`image ${image + 1} needs ${count} consecutive image tokens; the prompt has ${k} at index ${i}`);
      }
    }
    const start = next;
    let largest = start;
    for (let k = 0; k < count; k++) {
      const r = Math.floor(k / cols);
      const c = k % cols;
      t[i + k] = start;
      h[i + k] = start + r;
      w[i + k] = start + c;
      largest = Math.max(largest, start + r, start + c);
    }
    next = largest + 1;
    i += count;
    image++;
  }
  if (image !== grids.length) throw new MropeLayoutError(`${grids.length} image(s) given but the prompt holds ${image} run(s) of image tokens`);
  return { t, h, w, next };
}
