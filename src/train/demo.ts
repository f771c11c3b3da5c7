/**
 * The demo trio's recipe: model shape, data, phase budgets and the RL
 * variants (docs/demo-training.md). `scripts/demo-train.ts` runs it.
 */
import { tinyTokenIds } from '../engine/fixtures/index.js';
import { generateWorld, trainingExamples, VISION_KINDS, type QuestionKind, type WorldExample } from '../world/index.js';
import type { TrainConfig } from './config.js';

const tok = tinyTokenIds(false);

/** ≈ 0.7M parameters: six BF16 checkpoints stay under 10 MB in all. */
export const DEMO_MODEL: TrainConfig = {
  vocabSize: tok.minVocab,
  hidden: 96,
  intermediate: 224,
  numLayers: 6,
  numHeads: 4,
  numKvHeads: 2,
  tieWordEmbeddings: true,
  eosTokenId: tok.endOfText,
  imageTokenId: tok.imagePad,
  visionStartTokenId: tok.visionStart,
  visionEndTokenId: tok.visionEnd,
  // 8-px patches merged 2x2: each visual token sees one 16-px grid cell of the 48-px scene
  vision: { depth: 2, hidden: 48, intermediate: 96, numHeads: 2, patchSize: 8, imageSize: [48, 48] },
};

/** The end-of-text id (also the padding id). */
export const DEMO_EOS = tok.endOfText;

/** Special ids a generated answer never holds. */
export const DEMO_SUPPRESSED = [tok.visionStart, tok.visionEnd, tok.imagePad];

/** The RL runs: the full one and one per frozen third of the decoder layers. */
export const RL_VARIANTS = ['rl', 'rl-freeze-early', 'rl-freeze-middle', 'rl-freeze-late'] as const;
export type RlVariant = (typeof RL_VARIANTS)[number];

/** Decoder-layer thirds cut at floor(N/3), floor(2N/3), as the splice presets cut them. */
export function thirdOf(layer: number, numLayers: number): 'early' | 'middle' | 'late' {
  const a = Math.floor(numLayers / 3);
  const b = Math.floor((2 * numLayers) / 3);
  return layer < a ? 'early' : layer < b ? 'middle' : 'late';
}

/** Which parameters an RL variant keeps frozen: every tensor of the decoder layers in its third. */
export function frozenBy(variant: RlVariant, numLayers: number): (name: string) => boolean {
  if (variant === 'rl') return () => false;
  const third = variant.slice('rl-freeze-'.length);
  return (name) => {
    const m = /^model\.layers\.(\d+)\./.exec(name);
    return m !== null && thirdOf(Number(m[1]), numLayers) === third;
  };
}

/** The held-out probe world's sizes per kind (data/probes/world). */
export const PROBE_COUNTS: Record<QuestionKind, number> = {
  counting: 60,
  ocr: 60,
  grounding_cell: 60,
  grounding_box: 60,
  recognition: 60,
  reasoning: 300,
  text: 300,
};

/** Seeds: the probe world and the training stream (a separate stream, so probes are held out). */
export const PROBE_SEED = 2602;
export const TRAIN_SEED = 12395;

/** A key that equal questions share (prompt, answer and scene), to keep exact duplicates of probes out of training. */
export function questionKey(e: WorldExample): string {
  return JSON.stringify([e.prompt, e.answer, e.scene]);
}

/** The held-out probe examples (the same ones writeProbeSets writes to probes.jsonl). */
export function probeExamples(): WorldExample[] {
  return generateWorld({ seed: PROBE_SEED, counts: PROBE_COUNTS });
}

/** `n` training examples of `kinds`, minus any that equal a probe question. */
export function heldOutTraining(seed: number, n: number, kinds: readonly QuestionKind[], exclude: ReadonlySet<string>): WorldExample[] {
  return trainingExamples(seed, n, { kinds }).filter((e) => !exclude.has(questionKey(e)));
}

/** Kinds of each phase: Base sees every kind's short answer; IN and RL see the worked-solution kinds. */
export const PRETRAIN_KINDS: readonly QuestionKind[] = [...VISION_KINDS, 'reasoning', 'text'];
export const SOLUTION_KINDS: readonly QuestionKind[] = ['reasoning', 'text'];
