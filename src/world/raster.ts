/**
 * A tiny rasteriser: scenes to row-major RGB bytes. No anti-aliasing, so every
 * pixel is exactly the background, the ink or one palette colour (tests
 * recover the scene from the pixels).
 */
import { FONT, GLYPH_GAP, GLYPH_HEIGHT, GLYPH_WIDTH, wordExtent } from './font.js';
import { BACKGROUND, INK, PALETTE, shapeFrame, type Scene, type Shape, type ShapeKind } from './scene.js';

/** Row-major RGB pixels. */
export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes */
  data: Uint8Array;
}

/** Whether the pixel centre (px, py) lies inside a shape drawn in the frame [x1, y1, x2, y2). */
function inside(kind: ShapeKind, frame: readonly number[], px: number, py: number): boolean {
  const [x1, y1, x2, y2] = frame as [number, number, number, number];
  const w = x2 - x1;
  const h = y2 - y1;
  const cx = x1 + w / 2;
  const cy = y1 + h / 2;
  switch (kind) {
    case 'square':
      return true;
    case 'circle': {
      const r = Math.min(w, h) / 2;
      return (px - cx) ** 2 + (py - cy) ** 2 <= r * r;
    }
    case 'triangle': {
      // apex at the top centre, base along the bottom edge
      const t = (py - y1) / h;
      return Math.abs(px - cx) <= (t * w) / 2;
    }
  }
}

function fill(image: RgbImage, x: number, y: number, rgb: readonly number[]): void {
  const at = (y * image.width + x) * 3;
  image.data[at] = rgb[0]!;
  image.data[at + 1] = rgb[1]!;
  image.data[at + 2] = rgb[2]!;
}

/** The pixels (x, y) a shape covers on a canvas of the given geometry. */
export function shapePixels(canvas: { size: number; grid: number }, shape: Shape): [number, number][] {
  const frame = shapeFrame(canvas, shape.row, shape.col);
  const out: [number, number][] = [];
  for (let y = frame[1]; y < frame[3]; y++) {
    for (let x = frame[0]; x < frame[2]; x++) {
      if (inside(shape.kind, frame, x + 0.5, y + 0.5)) out.push([x, y]);
    }
  }
  return out;
}

/**
 * The tight pixel box [x1, y1, x2, y2] of a shape, in continuous coordinates
 * (x2, y2 one past the last covered pixel), as grounding answers use.
 */
export function shapeBox(canvas: { size: number; grid: number }, shape: Shape): [number, number, number, number] {
  const pixels = shapePixels(canvas, shape);
  const xs = pixels.map((p) => p[0]);
  const ys = pixels.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs) + 1, Math.max(...ys) + 1];
}

/**
 * Draws a scene on a white canvas.
 * @throws RangeError when a word does not fit the canvas
 */
export function renderScene(scene: Scene): RgbImage {
  const image: RgbImage = { width: scene.size, height: scene.size, data: new Uint8Array(scene.size * scene.size * 3) };
  for (let y = 0; y < scene.size; y++) for (let x = 0; x < scene.size; x++) fill(image, x, y, BACKGROUND);
  if (scene.type === 'shapes') {
    for (const shape of scene.shapes) {
      const colour = PALETTE[shape.colour];
      for (const [x, y] of shapePixels(scene, shape)) fill(image, x, y, colour);
    }
    return image;
  }
  const { width, height } = wordExtent(scene.word, scene.scale);
  if (scene.x < 0 || scene.y < 0 || scene.x + width > scene.size || scene.y + height > scene.size) {
    throw new RangeError(`word ${JSON.stringify(scene.word)} at (${scene.x}, ${scene.y}) scale ${scene.scale} does not fit a ${scene.size}px canvas`);
  }
  [...scene.word].forEach((letter, i) => {
    const left = scene.x + i * scene.scale * (GLYPH_WIDTH + GLYPH_GAP);
    const glyph = FONT[letter]!;
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (!glyph[gy]![gx]) continue;
        for (let dy = 0; dy < scene.scale; dy++) {
          for (let dx = 0; dx < scene.scale; dx++) fill(image, left + gx * scene.scale + dx, scene.y + gy * scene.scale + dy, INK);
        }
      }
    }
  });
  return image;
}
