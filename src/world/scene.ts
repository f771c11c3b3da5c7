/**
 * Scenes of the synthetic world: coloured shapes on a white canvas, one shape
 * per cell of a square grid (so shapes never overlap), or a short word drawn
 * in the project's bitmap font. Pure data; `raster.ts` draws them.
 */
import type { WorldRandom } from './random.js';

/** The shapes the world draws. */
export const SHAPE_KINDS = ['square', 'circle', 'triangle'] as const;
export type ShapeKind = (typeof SHAPE_KINDS)[number];

/**
 * The named palette, RGB. Channels are far apart so that a colour is
 * recognised from one pixel and never confused with the white background
 * or the black text.
 */
export const PALETTE = {
  red: [220, 30, 30],
  green: [30, 160, 50],
  blue: [30, 70, 220],
  yellow: [240, 200, 20],
  purple: [140, 50, 180],
} as const satisfies Record<string, readonly [number, number, number]>;
export type ColourName = keyof typeof PALETTE;
export const COLOUR_NAMES = Object.keys(PALETTE) as ColourName[];

/** Canvas background and text colour. */
export const BACKGROUND: readonly [number, number, number] = [255, 255, 255];
export const INK: readonly [number, number, number] = [0, 0, 0];

/** Canvas geometry shared by every scene of a world. */
export interface CanvasOptions {
  /** side of the square canvas in pixels [48] */
  size?: number;
  /** cells per side of the grid [3]; rows are lettered A.., columns numbered 1.. */
  grid?: number;
}

/** Resolved canvas geometry. */
export interface Canvas {
  size: number;
  grid: number;
}

/** One shape, placed in grid cell (row, col), both 0-based. */
export interface Shape {
  kind: ShapeKind;
  colour: ColourName;
  row: number;
  col: number;
}

/** Shapes on a grid. */
export interface ShapeScene {
  type: 'shapes';
  size: number;
  grid: number;
  /** in cell order (row-major) */
  shapes: Shape[];
}

/** A word in capital letters; (x, y) is the top-left pixel, each font pixel drawn scale x scale. */
export interface WordScene {
  type: 'word';
  size: number;
  word: string;
  x: number;
  y: number;
  scale: number;
}

export type Scene = ShapeScene | WordScene;

/** Smallest cell side that still draws a recognisable triangle and circle. */
const MIN_CELL = 8;

/**
 * Checks and fills in canvas options.
 * @throws RangeError when the size or grid is not a positive integer or the cells would be too small
 */
export function resolveCanvas(options: CanvasOptions = {}): Canvas {
  const size = options.size ?? 48;
  const grid = options.grid ?? 3;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`'size' must be a positive integer, got ${size}`);
  if (!Number.isInteger(grid) || grid < 1 || grid > 9) throw new RangeError(`'grid' must be an integer in 1..9, got ${grid}`);
  if (Math.floor(size / grid) < MIN_CELL) {
    throw new RangeError(`'size' ${size} is too small for a ${grid}x${grid} grid (cells need at least ${MIN_CELL} px)`);
  }
  return { size, grid };
}

/** The label of a cell: row letter then column number, e.g. 'B2'. */
export function cellName(row: number, col: number): string {
  return `${String.fromCharCode(65 + row)}${col + 1}`;
}

/**
 * The box a shape in (row, col) is drawn inside, [x1, y1, x2, y2) in pixels:
 * the cell shrunk by a margin, with the grid centred on the canvas.
 */
export function shapeFrame(canvas: Canvas, row: number, col: number): [number, number, number, number] {
  const cell = Math.floor(canvas.size / canvas.grid);
  const offset = Math.floor((canvas.size - cell * canvas.grid) / 2);
  const margin = Math.max(1, Math.round(cell / 8));
  const x = offset + col * cell;
  const y = offset + row * cell;
  return [x + margin, y + margin, x + cell - margin, y + cell - margin];
}

/** Options for drawing a random shape scene. */
export interface ShapeSceneOptions {
  minShapes?: number;
  maxShapes?: number;
  /** colours to draw from [every palette colour] */
  colours?: readonly ColourName[];
}

/**
 * A random shape scene: a number of shapes in [minShapes, maxShapes], each in
 * its own random cell with a random kind and colour.
 * @throws RangeError when the shape range does not fit the grid
 */
export function randomShapeScene(rng: WorldRandom, canvas: Canvas, options: ShapeSceneOptions = {}): ShapeScene {
  const cells = canvas.grid * canvas.grid;
  const minShapes = options.minShapes ?? 1;
  const maxShapes = options.maxShapes ?? Math.min(cells, 7);
  if (minShapes < 0 || maxShapes > cells || minShapes > maxShapes) {
    throw new RangeError(`shape count range [${minShapes}, ${maxShapes}] does not fit a ${canvas.grid}x${canvas.grid} grid`);
  }
  const colours = options.colours ?? COLOUR_NAMES;
  const n = rng.int(minShapes, maxShapes);
  const chosen = rng.shuffle([...Array(cells).keys()]).slice(0, n).sort((a, b) => a - b);
  const shapes = chosen.map((cell) => ({
    kind: rng.pick(SHAPE_KINDS),
    colour: rng.pick(colours),
    row: Math.floor(cell / canvas.grid),
    col: cell % canvas.grid,
  }));
  return { type: 'shapes', size: canvas.size, grid: canvas.grid, shapes };
}

/** How many shapes match the filter (colour and/or kind). */
export function countShapes(scene: ShapeScene, filter: { colour?: ColourName; kind?: ShapeKind } = {}): number {
  return scene.shapes.filter((s) => (filter.colour === undefined || s.colour === filter.colour) && (filter.kind === undefined || s.kind === filter.kind)).length;
}

/** 'a' or 'an' before a word. */
function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/** A shape named in words: 'red circle'. */
export function shapeName(shape: { colour: ColourName; kind: ShapeKind }): string {
  return `${shape.colour} ${shape.kind}`;
}

/**
 * A complete text description of a scene: every shape with its colour and
 * cell, or the word written. Enough to answer every question about it.
 */
export function describeScene(scene: Scene): string {
  const frame = `A white ${scene.size}x${scene.size} picture`;
  if (scene.type === 'word') return `${frame} with the word "${scene.word}" written in black capital letters.`;
  const last = String.fromCharCode(64 + scene.grid);
  const grid = `divided into a ${scene.grid}x${scene.grid} grid (rows A-${last} from top to bottom, columns 1-${scene.grid} from left to right)`;
  if (scene.shapes.length === 0) return `${frame} ${grid} with no shapes.`;
  const items = scene.shapes.map((s) => `${article(s.colour)} ${shapeName(s)} in ${cellName(s.row, s.col)}`);
  const count = scene.shapes.length === 1 ? '1 shape' : `${scene.shapes.length} shapes`;
  return `${frame} ${grid} with ${count}: ${items.join(', ')}.`;
}
