import { describe, expect, test } from 'vitest';
import { cellLabel, cutCells, DEFAULT_CUT, EXAMPLES_PER_UNIT, exampleRanges, LAYERS_PER_UNIT, layerGroups, WHOLE_RUN } from '../../src/engine/analyses/unit-cut.js';

describe('the work-unit cut', () => {
  test('example ranges are whole batches covering every example once, in order', () => {
    for (const batchSize of [1, 3, 5, 8, 16, 40]) {
      for (const count of [1, 7, 16, 17, 33, 100]) {
        const ranges = exampleRanges(count, batchSize);
        expect(ranges[0]!.start).toBe(0);
        expect(ranges[ranges.length - 1]!.end).toBe(count);
        ranges.forEach((r, i) => {
          if (i > 0) expect(r.start).toBe(ranges[i - 1]!.end);
          // a range starts on a batch boundary, so its batches are the single pass's batches
          expect(r.start % batchSize).toBe(0);
          if (i < ranges.length - 1) {
            expect((r.end - r.start) % batchSize).toBe(0);
            expect(r.end - r.start).toBeGreaterThanOrEqual(EXAMPLES_PER_UNIT);
            expect(r.end - r.start).toBeLessThan(EXAMPLES_PER_UNIT + batchSize);
          }
        });
      }
    }
  });

  test('layer groups partition the sorted layers into groups of the fixed size', () => {
    const layers = [27, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 1, 2];
    const groups = layerGroups(layers);
    expect(groups.flat()).toEqual([...layers].sort((a, b) => a - b));
    expect(groups.map((g) => g.length)).toEqual([LAYERS_PER_UNIT, LAYERS_PER_UNIT, LAYERS_PER_UNIT, 28 - 3 * LAYERS_PER_UNIT]);
  });

  test('the cut depends only on its arguments: the same request gives the same cells, WHOLE_RUN gives one', () => {
    const a = cutCells(40, 8, [0, 2, 4, 6, 8, 10, 12, 14, 16]);
    expect(JSON.stringify(cutCells(40, 8, [16, 14, 12, 10, 8, 6, 4, 2, 0]))).toBe(JSON.stringify(a));
    // range-major: index = range * groups + group
    expect(a.map((c) => [c.rangeIndex, c.groupIndex])).toEqual([[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]);
    expect(cutCells(40, 8, [0, 1, 2], WHOLE_RUN)).toEqual([{ range: { start: 0, end: 40 }, rangeIndex: 0, layers: [0, 1, 2], groupIndex: 0 }]);
    expect(cutCells(40, 8, null, DEFAULT_CUT).every((c) => c.layers === null)).toBe(true);
  });

  test('labels name the unified layers and 1-based examples', () => {
    expect(cellLabel({ range: { start: 0, end: 16 }, rangeIndex: 0, layers: [0, 1, 2, 3, 4, 5, 6], groupIndex: 0 })).toBe('layers 1-7 x examples 1-16');
    expect(cellLabel({ range: { start: 16, end: 20 }, rangeIndex: 1, layers: [0, 5, 11], groupIndex: 0 })).toBe('layers 1,6,12 x examples 17-20');
    expect(cellLabel({ range: { start: 16, end: 20 }, rangeIndex: 1, layers: [4], groupIndex: 0 })).toBe('layer 5 x examples 17-20');
    expect(cellLabel({ range: { start: 0, end: 3 }, rangeIndex: 0, layers: null, groupIndex: 0 })).toBe('examples 1-3');
  });
});
