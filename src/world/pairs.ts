/**
 * Visual-token-swap pairs in the reference's shape: two images, one question,
 * and different gold answers for the target and the source image.
 */
import { WorldRandom, deriveSeed } from './random.js';
import { shapeBox } from './raster.js';
import { COLOUR_NAMES, SHAPE_KINDS, cellName, countShapes, randomShapeScene, type Canvas, type Scene, type ShapeScene } from './scene.js';
import { boxPrompt, randomWordScene, recognitionPrompt, resample, uniqueShapes } from './vision-questions.js';

/** The reference's four pair tasks. */
export const PAIR_TASKS = ['counting', 'ocr', 'grounding', 'recognition'] as const;
export type PairTask = (typeof PAIR_TASKS)[number];

/** One pair; `meta` holds the answers under the reference's field names. */
export interface WorldPair {
  /** e.g. 'counting_000003' */
  id: string;
  task: PairTask;
  prompt: string;
  target: Scene;
  source: Scene;
  meta: Record<string, unknown>;
}

function countingPair(rng: WorldRandom, canvas: Canvas): Omit<WorldPair, 'id' | 'task'> {
  const target = randomShapeScene(rng, canvas);
  const source = resample('counting pair', () => {
    const s = randomShapeScene(rng, canvas);
    return s.shapes.length === target.shapes.length ? null : s;
  });
  return {
    prompt: '<image>How many shapes are there in the image?',
    target,
    source,
    meta: { target_answer: String(target.shapes.length), source_answer: String(source.shapes.length) },
  };
}

function ocrPair(rng: WorldRandom, canvas: Canvas): Omit<WorldPair, 'id' | 'task'> {
  const target = randomWordScene(rng, canvas);
  const source = randomWordScene(rng, canvas, target.word);
  return {
    prompt: '<image>What word is written in the image? Answer with the word.',
    target,
    source,
    meta: { target_text: target.word.toLowerCase(), source_text: source.word.toLowerCase() },
  };
}

function groundingPair(rng: WorldRandom, canvas: Canvas): Omit<WorldPair, 'id' | 'task'> {
  // the named shape occurs exactly once in each image, in different cells
  return resample('grounding pair', () => {
    const target = randomShapeScene(rng, canvas);
    const unique = uniqueShapes(target);
    if (unique.length === 0) return null;
    const shape = rng.pick(unique);
    const source = randomShapeScene(rng, canvas);
    const matches = source.shapes.filter((s) => s.colour === shape.colour && s.kind === shape.kind);
    if (matches.length !== 1) return null;
    const other = matches[0]!;
    if (other.row === shape.row && other.col === shape.col) return null;
    return {
      prompt: boxPrompt(shape),
      target,
      source,
      meta: {
        target_bbox_xyxy: shapeBox(canvas, shape),
        source_bbox_xyxy: shapeBox(canvas, other),
        canvas_size: [canvas.size, canvas.size],
        target_cell: cellName(shape.row, shape.col),
        source_cell: cellName(other.row, other.col),
      },
    };
  });
}

function recognitionPair(rng: WorldRandom, canvas: Canvas): Omit<WorldPair, 'id' | 'task'> {
  const targetYes = rng.chance(0.5);
  return resample('recognition pair', () => {
    const asked = { colour: rng.pick(COLOUR_NAMES), kind: rng.pick(SHAPE_KINDS) };
    const a = randomShapeScene(rng, canvas);
    const b = randomShapeScene(rng, canvas);
    const has = (s: ShapeScene): boolean => countShapes(s, asked) > 0;
    if (has(a) === has(b)) return null;
    const [yes, no] = has(a) ? [a, b] : [b, a];
    const [target, source] = targetYes ? [yes, no] : [no, yes];
    return {
      prompt: recognitionPrompt(asked),
      target,
      source,
      meta: { target_answer: targetYes ? 'yes' : 'no', source_answer: targetYes ? 'no' : 'yes' },
    };
  });
}

const MAKERS: Record<PairTask, (rng: WorldRandom, canvas: Canvas) => Omit<WorldPair, 'id' | 'task'>> = {
  counting: countingPair,
  ocr: ocrPair,
  grounding: groundingPair,
  recognition: recognitionPair,
};

/** The `index`-th pair of a task, from the pair stream of `seed`. */
export function generatePair(task: PairTask, index: number, seed: number, canvas: Canvas): WorldPair {
  const rng = new WorldRandom(deriveSeed(seed, `pairs/${task}`, index));
  return { id: `${task}_${String(index).padStart(6, '0')}`, task, ...MAKERS[task](rng, canvas) };
}
