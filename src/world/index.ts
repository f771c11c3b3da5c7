/**
 * The synthetic visual reasoning world: seeded scenes of coloured shapes or
 * short words, rendered by the project, with exact-match questions
 * (docs/world.md).
 */
export { QUESTION_KINDS, VISION_KINDS, type QuestionKind, type WorldExample } from './example.js';
export { PROBE_STREAM, TRAINING_STREAM, generateExample, generateWorld, trainingExamples, type WorldOptions } from './generate.js';
export { PAIR_TASKS, generatePair, type PairTask, type WorldPair } from './pairs.js';
export { writeProbeSets, type ProbeSetOptions, type WrittenProbeSets } from './probe-sets.js';
export { encodePng, decodePng } from './png.js';
export { renderScene, shapeBox, shapePixels, type RgbImage } from './raster.js';
export { FONT, GLYPH_GAP, GLYPH_HEIGHT, GLYPH_WIDTH, WORDS } from './font.js';
export {
  COLOUR_NAMES,
  PALETTE,
  SHAPE_KINDS,
  cellName,
  describeScene,
  resolveCanvas,
  type CanvasOptions,
  type ColourName,
  type Scene,
  type Shape,
  type ShapeKind,
  type ShapeScene,
  type WordScene,
} from './scene.js';
