/**
 * Perception questions: counting, reading a word, locating a shape (grid
 * cell or pixel box) and recognising whether a shape is present. Every
 * generator resamples until its answer is unique and well defined.
 */
import type { Question } from './example.js';
import { WORDS, wordExtent } from './font.js';
import type { WorldRandom } from './random.js';
import { shapeBox } from './raster.js';
import {
  COLOUR_NAMES,
  SHAPE_KINDS,
  cellName,
  countShapes,
  randomShapeScene,
  shapeName,
  type Canvas,
  type ColourName,
  type Shape,
  type ShapeKind,
  type ShapeScene,
  type WordScene,
} from './scene.js';

/** Draws until `make` returns a value; guards against a generator that can never succeed. */
export function resample<T>(what: string, make: () => T | null, attempts = 1000): T {
  for (let i = 0; i < attempts; i++) {
    const value = make();
    if (value !== null) return value;
  }
  throw new Error(`${what}: no valid scene after ${attempts} attempts; the canvas options are too restrictive`);
}

/** Plural of a shape kind. */
export function plural(kind: ShapeKind): string {
  return `${kind}s`;
}

/** Shapes whose colour and kind occur exactly once in the scene (so 'the blue circle' names one shape). */
export function uniqueShapes(scene: ShapeScene): Shape[] {
  return scene.shapes.filter((s) => countShapes(scene, { colour: s.colour, kind: s.kind }) === 1);
}

/** 'How many shapes / red shapes / circles are there?' */
export function countingQuestion(rng: WorldRandom, canvas: Canvas): Question {
  const scene = randomShapeScene(rng, canvas, { minShapes: 0 });
  const variant = rng.pick(['all', 'colour', 'kind'] as const);
  let prompt: string;
  let answer: number;
  if (variant === 'all') {
    prompt = 'How many shapes are there in the image?';
    answer = scene.shapes.length;
  } else if (variant === 'colour') {
    const colour = rng.pick(COLOUR_NAMES);
    prompt = `How many ${colour} shapes are there in the image?`;
    answer = countShapes(scene, { colour });
  } else {
    const kind = rng.pick(SHAPE_KINDS);
    prompt = `How many ${plural(kind)} are there in the image?`;
    answer = countShapes(scene, { kind });
  }
  return { task: 'counting', prompt: `<image>${prompt}`, answer: String(answer), scene, solution: null, tags: ['counting', variant] };
}

/**
 * A word scene: a word from the list, at the largest scale that fits, at a
 * random position with a 2 px margin.
 * @throws RangeError when the canvas cannot hold even a 3-letter word
 */
export function randomWordScene(rng: WorldRandom, canvas: Canvas, exclude?: string): WordScene {
  const margin = 2;
  const room = canvas.size - 2 * margin;
  const fits = WORDS.filter((w) => w !== exclude && wordExtent(w, 1).width <= room && wordExtent(w, 1).height <= room);
  if (fits.length === 0) throw new RangeError(`'size' ${canvas.size} is too small to draw a word (needs at least ${wordExtent('CAT', 1).width + 2 * margin} px)`);
  const word = rng.pick(fits);
  const unit = wordExtent(word, 1);
  const scale = Math.max(1, Math.min(Math.floor(room / unit.width), Math.floor(room / unit.height)));
  const { width, height } = wordExtent(word, scale);
  const x = rng.int(margin, canvas.size - margin - width);
  const y = rng.int(margin, canvas.size - margin - height);
  return { type: 'word', size: canvas.size, word, x, y, scale };
}

/** 'What word is written in the image?' (answer in lower case) */
export function ocrQuestion(rng: WorldRandom, canvas: Canvas): Question {
  const scene = randomWordScene(rng, canvas);
  return {
    task: 'ocr',
    prompt: '<image>What word is written in the image? Answer with the word.',
    answer: scene.word.toLowerCase(),
    scene,
    solution: null,
    tags: ['ocr', `length-${scene.word.length}`],
  };
}

/** The prompt asking for a shape's grid cell. */
export function cellPrompt(shape: { colour: ColourName; kind: ShapeKind }, grid: number): string {
  const last = String.fromCharCode(64 + grid);
  return `<image>Where is the ${shapeName(shape)}? Answer with the grid cell like B2 (rows A-${last} from the top, columns 1-${grid} from the left).`;
}

/** The prompt asking for a shape's pixel box. */
export function boxPrompt(shape: { colour: ColourName; kind: ShapeKind }): string {
  return `<image>Where is the ${shapeName(shape)}? Answer with its bounding box in pixels as x1,y1,x2,y2.`;
}

/** A scene with at least one uniquely named shape, and one such shape. */
function sceneWithUniqueShape(rng: WorldRandom, canvas: Canvas, what: string): { scene: ShapeScene; shape: Shape } {
  return resample(what, () => {
    const scene = randomShapeScene(rng, canvas);
    const unique = uniqueShapes(scene);
    return unique.length === 0 ? null : { scene, shape: rng.pick(unique) };
  });
}

/** 'Where is the blue circle?' answered with a grid cell. */
export function groundingCellQuestion(rng: WorldRandom, canvas: Canvas): Question {
  const { scene, shape } = sceneWithUniqueShape(rng, canvas, 'grounding_cell');
  return { task: 'free', prompt: cellPrompt(shape, canvas.grid), answer: cellName(shape.row, shape.col), scene, solution: null, tags: ['grounding', 'cell'] };
}

/** 'Where is the blue circle?' answered with a pixel box. */
export function groundingBoxQuestion(rng: WorldRandom, canvas: Canvas): Question {
  const { scene, shape } = sceneWithUniqueShape(rng, canvas, 'grounding_box');
  return { task: 'grounding', prompt: boxPrompt(shape), answer: shapeBox(canvas, shape), scene, solution: null, tags: ['grounding', 'box'] };
}

/** The recognition prompt. */
export function recognitionPrompt(target: { colour: ColourName; kind: ShapeKind }): string {
  return `<image>Is there ${/^[aeiou]/.test(target.colour) ? 'an' : 'a'} ${shapeName(target)} in the image? Answer yes or no.`;
}

/** 'Is there a green triangle?' with yes and no equally likely. */
export function recognitionQuestion(rng: WorldRandom, canvas: Canvas): Question {
  const wantYes = rng.chance(0.5);
  const { scene, target } = resample('recognition', () => {
    const scene = randomShapeScene(rng, canvas);
    if (wantYes) return scene.shapes.length === 0 ? null : { scene, target: rng.pick(scene.shapes) as { colour: ColourName; kind: ShapeKind } };
    const target = { colour: rng.pick(COLOUR_NAMES), kind: rng.pick(SHAPE_KINDS) };
    return countShapes(scene, target) === 0 ? { scene, target } : null;
  });
  return { task: 'recognition', prompt: recognitionPrompt(target), answer: wantYes ? 'yes' : 'no', scene, solution: null, tags: ['recognition', wantYes ? 'present' : 'absent'] };
}
