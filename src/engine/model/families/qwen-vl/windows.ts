/**
 * Qwen2.5-VL's window attention (transformers' `get_window_index`): the
 * merged-token grid of an image is cut into square windows of
 * window_size / (merge · patch) merged tokens per side, from the top-left; the
 * windows at the right and bottom edges are smaller when the grid does not
 * divide. A patch attends to the patches of its own window in the windowed
 * blocks and to its whole image in the `fullatt_block_indexes` blocks.
 */
import type { PatchGrid } from './positions.js';

/**
 * The window of every patch of one image, patches in merge-block order (the
 * order of the processor's rows): patch n belongs to merged token ⌊n / m²⌋.
 * Windows are numbered row-major over the window grid.
 */
export function patchWindows(grid: PatchGrid, mergeSize: number, patchSize: number, windowSize: number): Int32Array {
  const side = Math.floor(windowSize / mergeSize / patchSize);
  if (side < 1) throw new RangeError(`'window_size' ${windowSize} is smaller than one merged token (${mergeSize * patchSize} pixels)`);
  const rows = grid.h / mergeSize;
  const cols = grid.w / mergeSize;
  const windowCols = Math.ceil(cols / side);
  const unit = mergeSize * mergeSize;
  const perFrame = rows * cols;
  const out = new Int32Array(grid.t * perFrame * unit);
  for (let token = 0; token < grid.t * perFrame; token++) {
    const frame = Math.floor(token / perFrame);
    const r = Math.floor((token % perFrame) / cols);
    const c = token % cols;
    const window = frame * Math.ceil(rows / side) * windowCols + Math.floor(r / side) * windowCols + Math.floor(c / side);
    out.fill(window, token * unit, (token + 1) * unit);
  }
  return out;
}
