/**
 * M-RoPE position ids, written from transformers' Qwen2VLModel.get_rope_index
 * and Qwen2_5_VLModel.get_rope_index (images only; videos are not modelled).
 *
 * Per batch row, over its real tokens only (attention_mask == 1):
 * - the number of images is the number of `<|vision_start|>` tokens directly
 *   followed by `<|image_pad|>`;
 * - text runs get (s, s, s) counting on from the previous maximum + 1;
 * - the k-th image (global order over the batch, row by row) with grid
 *   [t, h, w] covers t*(h/m)*(w/m) pad tokens starting at the first
 *   `<|image_pad|>` at or after the current cursor, and gets
 *   (st + ti*r, st + i, st + j) with st = the position its pad run would have
 *   had as text, r = 0 for images (Qwen2.5-VL: second_per_grid_t *
 *   tokens_per_second, 0 for images; Qwen2-VL: ti itself, and t = 1 for images);
 * - padding positions hold 1 on all three axes;
 * - rope_delta = max + 1 - (row length including padding).
 * With no image in the whole call (no image_grid_thw), the text-only branch:
 * cumsum(mask) - 1 on real tokens, 1 on padding, delta = max + 1 - length.
 */
import type { GridThw } from './vision.js';

/** Token ids the position rule looks at. */
export interface RopeIndexTokens {
  imageTokenId: number;
  visionStartTokenId: number;
  /** temporal step of an image's frames: Qwen2-VL 1 (t index itself), Qwen2.5-VL 0 (second_per_grid_t = 0 for images) [1] */
  imageTemporalStep?: number;
}

/** Result of {@link getRopeIndex}: per row, positions [3][T] and the decode delta. */
export interface RopeIndex {
  /** positions[row][axis][i], axis 0 = t, 1 = h, 2 = w */
  positions: number[][][];
  ropeDeltas: number[];
}

export function getRopeIndex(
  ids: readonly (readonly number[])[],
  imageGrids: readonly GridThw[] | null,
  tokens: RopeIndexTokens,
  mergeSize: number,
  attentionMask?: readonly (readonly number[])[],
): RopeIndex {
  const positions: number[][][] = [];
  const ropeDeltas: number[] = [];
  const mask = attentionMask ?? ids.map((r) => r.map(() => 1));
  if (imageGrids === null) {
    ids.forEach((row, b) => {
      let c = 0;
      const p = row.map((_, i) => (mask[b]![i] === 1 ? c++ : 1));
      const max = Math.max(...p);
      positions.push([p, [...p], [...p]]);
      ropeDeltas.push(max + 1 - row.length);
    });
    return { positions, ropeDeltas };
  }
  let imageIndex = 0;
  ids.forEach((fullRow, b) => {
    const realIdx: number[] = [];
    fullRow.forEach((_, i) => mask[b]![i] === 1 && realIdx.push(i));
    const row = realIdx.map((i) => fullRow[i]!);
    let images = 0;
    row.forEach((tok, i) => tok === tokens.visionStartTokenId && row[i + 1] === tokens.imageTokenId && images++);
    const pt: number[] = [];
    const ph: number[] = [];
    const pw: number[] = [];
    let next = 0; // max so far + 1
    let st = 0;
    const text = (len: number): void => {
      for (let k = 0; k < len; k++) {
        pt.push(next + k);
        ph.push(next + k);
        pw.push(next + k);
      }
      if (len > 0) next += len;
    };
    for (let k = 0; k < images; k++) {
      const ed = row.indexOf(tokens.imageTokenId, st);
      if (ed < 0) throw new Error('get_rope_index: fewer image pads than vision starts');
      const grid = imageGrids[imageIndex++];
      if (!grid) throw new Error('get_rope_index: more images in the prompt than grids');
      const [t, h, w] = grid;
      const lh = h / mergeSize;
      const lw = w / mergeSize;
      text(ed - st);
      const base = next;
      const step = tokens.imageTemporalStep ?? 1;
      let max = -1;
      for (let ti = 0; ti < t; ti++) {
        for (let i = 0; i < lh; i++) {
          for (let j = 0; j < lw; j++) {
            pt.push(base + Math.trunc(ti * step));
            ph.push(base + i);
            pw.push(base + j);
            max = Math.max(max, base + Math.trunc(ti * step), base + i, base + j);
          }
        }
      }
      next = max + 1;
      st = ed + t * lh * lw;
    }
    if (st < row.length) text(row.length - st);
    if (pt.length !== row.length) throw new Error(`get_rope_index: ${pt.length} positions for ${row.length} tokens (image pads do not match the grids)`);
    const outT = fullRow.map(() => 1);
    const outH = fullRow.map(() => 1);
    const outW = fullRow.map(() => 1);
    realIdx.forEach((i, k) => {
      outT[i] = pt[k]!;
      outH[i] = ph[k]!;
      outW[i] = pw[k]!;
    });
    positions.push([outT, outH, outW]);
    ropeDeltas.push(next - fullRow.length);
  });
  return { positions, ropeDeltas };
}
