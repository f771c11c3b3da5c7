import { describe, expect, it } from 'vitest';
import { MropeLayoutError, mropePositions } from '../../src/engine/model/families/qwen-vl/positions.js';
import { visualTokenCount } from '../../src/engine/model/vision-input.js';
import { patchWindows } from '../../src/engine/model/families/qwen-vl/windows.js';

const I = 9; // image token
const S = 7; // vision start
const E = 8; // vision end

const arr = (x: Int32Array) => [...x];

describe('M-RoPE positions (get_rope_index)', () => {
  it('text only: the three axes are 0, 1, 2, ... and generation continues at the length', () => {
    const p = mropePositions([1, 2, 3, 4, 5], [], I, 2);
    for (const axis of [p.t, p.h, p.w]) expect(arr(axis)).toEqual([0, 1, 2, 3, 4]);
    expect(p.next).toBe(5);
  });

  it('an image at the start: one temporal position, row and column offsets on the merged grid, text after at max + 1', () => {
    // grid 1 x 4 x 6 patches, merge 2: a 2 x 3 grid of merged tokens
    const ids = [S, I, I, I, I, I, I, E, 1, 2];
    const p = mropePositions(ids, [{ t: 1, h: 4, w: 6 }], I, 2);
    expect(arr(p.t)).toEqual([0, 1, 1, 1, 1, 1, 1, 4, 5, 6]);
    expect(arr(p.h)).toEqual([0, 1, 1, 1, 2, 2, 2, 4, 5, 6]);
    expect(arr(p.w)).toEqual([0, 1, 2, 3, 1, 2, 3, 4, 5, 6]);
    expect(p.next).toBe(7);
  });

  it('two images in the middle of text', () => {
    const ids = [1, S, I, I, I, I, E, 2, S, I, I, E];
    const p = mropePositions(ids, [{ t: 1, h: 4, w: 4 }, { t: 1, h: 2, w: 4 }], I, 2);
    expect(arr(p.t)).toEqual([0, 1, 2, 2, 2, 2, 4, 5, 6, 7, 7, 9]);
    expect(arr(p.h)).toEqual([0, 1, 2, 2, 3, 3, 4, 5, 6, 7, 7, 9]);
    expect(arr(p.w)).toEqual([0, 1, 2, 3, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(p.next).toBe(10);
  });

  it('a tall image advances text by its rows, a wide one by its columns', () => {
    const tall = mropePositions([I, I, I, 1], [{ t: 1, h: 6, w: 2 }], I, 2);
    expect(arr(tall.h)).toEqual([0, 1, 2, 3]);
    expect(arr(tall.w)).toEqual([0, 0, 0, 3]);
    const wide = mropePositions([I, I, I, 1], [{ t: 1, h: 2, w: 6 }], I, 2);
    expect(arr(wide.w)).toEqual([0, 1, 2, 3]);
    expect(wide.next).toBe(4);
  });

  it('refuses image tokens that do not match the images', () => {
    expect(() => mropePositions([S, I, I, I, E], [{ t: 1, h: 4, w: 4 }], I, 2)).toThrow(MropeLayoutError);
    expect(() => mropePositions([S, I, E], [], I, 2)).toThrow(MropeLayoutError);
    expect(() => mropePositions([1, 2], [{ t: 1, h: 2, w: 2 }], I, 2)).toThrow(MropeLayoutError);
    expect(() => mropePositions([I, I], [{ t: 2, h: 2, w: 2 }], I, 2)).toThrow(/video/);
  });

  it('counts visual tokens as t·h·w / merge²', () => {
    expect(visualTokenCount({ t: 1, h: 32, w: 24 }, 2)).toBe(192);
  });
});

describe('Qwen2.5-VL windows (get_window_index)', () => {
  it('cuts the merged grid into windows from the top-left, all four patches of a merged token together', () => {
    // 12 x 8 patches, merge 2 -> 6 x 4 merged tokens; 56 px / (2 * 14) = windows of 2 x 2 merged tokens
    const w = patchWindows({ t: 1, h: 12, w: 8 }, 2, 14, 56);
    expect(w.length).toBe(96);
    const merged = Array.from({ length: 24 }, (_, k) => w[k * 4]!);
    for (let k = 0; k < 24; k++) for (let j = 1; j < 4; j++) expect(w[k * 4 + j]).toBe(merged[k]);
    expect(merged).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3, 4, 4, 5, 5, 4, 4, 5, 5]);
  });

  it('makes the windows at the right and bottom edges smaller when the grid does not divide', () => {
    // 10 x 6 patches -> 5 x 3 merged tokens, windows of 2 x 2
    const w = patchWindows({ t: 1, h: 10, w: 6 }, 2, 14, 56);
    const sizes = new Map<number, number>();
    for (let k = 0; k < w.length; k += 4) sizes.set(w[k]!, (sizes.get(w[k]!) ?? 0) + 1);
    expect([...sizes.entries()].sort((a, b) => a[0] - b[0])).toEqual([[0, 4], [1, 2], [2, 4], [3, 2], [4, 2], [5, 1]]);
  });

  it('a window as large as the image is one window', () => {
    const w = patchWindows({ t: 1, h: 8, w: 8 }, 2, 14, 112);
    expect(new Set(w).size).toBe(1);
  });
});
