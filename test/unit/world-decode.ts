/**
 * Reads a rendered world image back from its pixels alone, so tests can
 * check gold answers without the scene data that produced them: shapes
 * are connected components of one palette colour, classified by their
 * outline; words are matched glyph by glyph against the font.
 */
import { FONT, GLYPH_HEIGHT, GLYPH_WIDTH, PALETTE, type RgbImage } from '../../src/world/index.js';

export interface DecodedShape {
  colour: string;
  kind: 'square' | 'circle' | 'triangle';
  /** 'B2' style, from the centroid */
  cell: string;
  /** tight pixel box, x2/y2 exclusive */
  box: [number, number, number, number];
}

function pixelColour(image: RgbImage, x: number, y: number): string {
  const at = (y * image.width + x) * 3;
  const [r, g, b] = [image.data[at]!, image.data[at + 1]!, image.data[at + 2]!];
  if (r === 255 && g === 255 && b === 255) return 'white';
  if (r === 0 && g === 0 && b === 0) return 'black';
  for (const [name, rgb] of Object.entries(PALETTE)) if (rgb[0] === r && rgb[1] === g && rgb[2] === b) return name;
  throw new Error(`pixel (${x}, ${y}) has a colour outside the palette: ${r},${g},${b}`);
}

/** Every shape in a shape image. */
export function decodeShapes(image: RgbImage, grid: number): DecodedShape[] {
  const { width, height } = image;
  const seen = new Uint8Array(width * height);
  const shapes: DecodedShape[] = [];
  for (let y0 = 0; y0 < height; y0++) {
    for (let x0 = 0; x0 < width; x0++) {
      const colour = pixelColour(image, x0, y0);
      if (colour === 'white' || seen[y0 * width + x0]) continue;
      if (colour === 'black') throw new Error('ink in a shape image');
      const pixels: [number, number][] = [];
      const stack: [number, number][] = [[x0, y0]];
      seen[y0 * width + x0] = 1;
      while (stack.length > 0) {
        const [x, y] = stack.pop()!;
        pixels.push([x, y]);
        for (const [nx, ny] of [[x + 1, y], [x - 1, y], [x, y + 1], [x, y - 1]] as const) {
          if (nx < 0 || ny < 0 || nx >= width || ny >= height || seen[ny * width + nx]) continue;
          if (pixelColour(image, nx, ny) !== colour) continue;
          seen[ny * width + nx] = 1;
          stack.push([nx, ny]);
        }
      }
      const xs = pixels.map((p) => p[0]);
      const ys = pixels.map((p) => p[1]);
      const box: [number, number, number, number] = [Math.min(...xs), Math.min(...ys), Math.max(...xs) + 1, Math.max(...ys) + 1];
      const rowWidth = (y: number): number => pixels.filter((p) => p[1] === y).length;
      const fillRatio = pixels.length / ((box[2] - box[0]) * (box[3] - box[1]));
      const top = rowWidth(box[1]);
      const bottom = rowWidth(box[3] - 1);
      const kind = fillRatio > 0.95 ? 'square' : bottom > 2 * top ? 'triangle' : 'circle';
      const cx = xs.reduce((a, b) => a + b, 0) / pixels.length + 0.5;
      const cy = ys.reduce((a, b) => a + b, 0) / pixels.length + 0.5;
      const cell = `${String.fromCharCode(65 + Math.floor((cy * grid) / height))}${Math.floor((cx * grid) / width) + 1}`;
      shapes.push({ colour, kind, cell, box });
    }
  }
  return shapes;
}

/** The word drawn in a word image, found by trying every left edge and matching glyphs exactly. */
export function decodeWord(image: RgbImage): string {
  const ink: [number, number][] = [];
  for (let y = 0; y < image.height; y++) for (let x = 0; x < image.width; x++) if (pixelColour(image, x, y) === 'black') ink.push([x, y]);
  if (ink.length === 0) throw new Error('no ink');
  const top = Math.min(...ink.map((p) => p[1]));
  const bottom = Math.max(...ink.map((p) => p[1])) + 1;
  const left = Math.min(...ink.map((p) => p[0]));
  const right = Math.max(...ink.map((p) => p[0])) + 1;
  const scale = (bottom - top) / GLYPH_HEIGHT;
  if (!Number.isInteger(scale)) throw new Error(`ink height ${bottom - top} is not a multiple of the glyph height`);
  const isInk = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < image.width && y < image.height && pixelColour(image, x, y) === 'black';
  const readings = new Set<string>();
  for (let x0 = left - 2 * scale; x0 <= left; x0++) {
    let word = '';
    let covered = 0;
    for (let start = x0; start < right; start += scale * (GLYPH_WIDTH + 1)) {
      const bits = [...Array(GLYPH_HEIGHT).keys()].map((gy) => [...Array(GLYPH_WIDTH).keys()].map((gx) => isInk(start + gx * scale, top + gy * scale)));
      const match = Object.entries(FONT).find(([, glyph]) => glyph.every((row, gy) => row.every((on, gx) => on === bits[gy]![gx])));
      if (match === undefined) break;
      word += match[0];
      covered += match[1].flat().filter(Boolean).length * scale * scale;
    }
    if (word.length > 0 && covered === ink.length) readings.add(word);
  }
  if (readings.size !== 1) throw new Error(`word reads ambiguously: ${[...readings].join(', ') || 'nothing'}`);
  return [...readings][0]!;
}
