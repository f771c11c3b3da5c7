import { describe, expect, it } from 'vitest';
import {
  FONT,
  WORDS,
  decodePng,
  encodePng,
  generateWorld,
  renderScene,
  resolveCanvas,
  type ShapeScene,
  type WordScene,
} from '../../src/world/index.js';
import { decodeShapes, decodeWord } from './world-decode.js';

const ALL = { counting: 6, ocr: 6, grounding_cell: 6, grounding_box: 6, recognition: 6, reasoning: 6, text: 4 };

describe('world rendering', () => {
  it('same seed gives identical examples, pixels and PNG bytes; another seed differs', async () => {
    const a = generateWorld({ seed: 11, counts: ALL });
    const b = generateWorld({ seed: 11, counts: ALL });
    const c = generateWorld({ seed: 12, counts: ALL });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
    for (let i = 0; i < a.length; i++) {
      if (a[i]!.scene === null) continue;
      const pa = await encodePng(renderScene(a[i]!.scene!));
      const pb = await encodePng(renderScene(b[i]!.scene!));
      expect(Buffer.compare(pa, pb)).toBe(0);
    }
  });

  it('adding examples of one kind leaves the others unchanged', () => {
    const small = generateWorld({ seed: 5, counts: { counting: 2, text: 3 } });
    const large = generateWorld({ seed: 5, counts: { counting: 9, ocr: 4, text: 3 } });
    const texts = (xs: typeof small) => JSON.stringify(xs.filter((x) => x.kind === 'text'));
    expect(texts(large)).toBe(texts(small));
    expect(JSON.stringify(large.slice(0, 2))).toBe(JSON.stringify(small.slice(0, 2)));
  });

  it('PNG round trip keeps every pixel', async () => {
    const [example] = generateWorld({ seed: 3, counts: { grounding_box: 1 } });
    const image = renderScene(example!.scene!);
    const back = await decodePng(await encodePng(image));
    expect([back.width, back.height]).toEqual([48, 48]);
    expect(Buffer.compare(Buffer.from(back.data), Buffer.from(image.data))).toBe(0);
  });

  it('the pixels show exactly the shapes of the scene, in their cells, without overlap', () => {
    for (const size of [48, 64, 36]) {
      const world = generateWorld({ seed: 21, size, counts: { counting: 25, recognition: 25 } });
      for (const example of world) {
        const scene = example.scene as ShapeScene;
        const seen = decodeShapes(renderScene(scene), scene.grid)
          .map((s) => `${s.colour} ${s.kind} ${s.cell}`)
          .sort();
        const planned = scene.shapes.map((s) => `${s.colour} ${s.kind} ${String.fromCharCode(65 + s.row)}${s.col + 1}`).sort();
        expect(seen).toEqual(planned);
      }
    }
  });

  it('a 4x4 grid on 64 px labels rows A-D and columns 1-4', () => {
    const world = generateWorld({ seed: 2, size: 64, grid: 4, counts: { grounding_cell: 30 } });
    const cells = new Set(world.map((e) => e.answer as string));
    for (const cell of cells) expect(cell).toMatch(/^[A-D][1-4]$/);
    expect(cells.size).toBeGreaterThan(8);
    for (const e of world) {
      const decoded = decodeShapes(renderScene(e.scene!), 4).map((s) => s.cell);
      expect(decoded).toContain(e.answer);
    }
  });

  it('the font has 26 distinct glyphs, each touching the top and bottom rows', () => {
    const letters = Object.keys(FONT);
    expect(letters.sort().join('')).toBe('ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    const patterns = new Set(letters.map((l) => JSON.stringify(FONT[l])));
    expect(patterns.size).toBe(26);
    for (const l of letters) {
      expect(FONT[l]!.length).toBe(7);
      expect(FONT[l]![0]!.some(Boolean) && FONT[l]![6]!.some(Boolean)).toBe(true);
    }
  });

  it('every word of the list reads back from its pixels at scale 1 and 2', () => {
    for (const word of WORDS) {
      for (const scale of [1, 2]) {
        const scene: WordScene = { type: 'word', size: 64, word, x: 3, y: 5, scale };
        expect(decodeWord(renderScene(scene))).toBe(word);
      }
    }
  });

  it('ocr answers are the words the pixels spell', () => {
    for (const size of [32, 48]) {
      for (const e of generateWorld({ seed: 8, size, counts: { ocr: 30 } })) {
        expect(decodeWord(renderScene(e.scene!)).toLowerCase()).toBe(e.answer);
        expect(e.answer).toMatch(/^[a-z]{3,5}$/);
      }
    }
  });

  it('refuses canvases too small for the grid, and words that do not fit', () => {
    expect(() => resolveCanvas({ size: 20, grid: 3 })).toThrow(/'size' 20/);
    expect(() => resolveCanvas({ size: 48, grid: 0 })).toThrow(RangeError);
    expect(() => renderScene({ type: 'word', size: 24, word: 'APPLE', x: 0, y: 0, scale: 1 })).toThrow(/does not fit/);
    expect(() => renderScene({ type: 'word', size: 48, word: 'ab', x: 0, y: 0, scale: 1 })).toThrow(/capital letters/);
  });
});
