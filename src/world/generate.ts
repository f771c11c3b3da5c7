/**
 * Seeded, deterministic generation of whole worlds of questions. Every
 * example draws from its own stream (seed, stream, kind, index), so the
 * probe stream and the training stream never share a random sequence.
 */
import { QUESTION_KINDS, type Question, type QuestionKind, type WorldExample } from './example.js';
import { WorldRandom, deriveSeed } from './random.js';
import { reasoningQuestion, textQuestion } from './reasoning-questions.js';
import { describeScene, resolveCanvas, type Canvas, type CanvasOptions } from './scene.js';
import { countingQuestion, groundingBoxQuestion, groundingCellQuestion, ocrQuestion, recognitionQuestion } from './vision-questions.js';

/** The stream probe sets are drawn from. */
export const PROBE_STREAM = 'probe';
/** The stream training examples are drawn from; distinct from PROBE_STREAM so probes stay held out. */
export const TRAINING_STREAM = 'train';

/** Options of generateWorld. */
export interface WorldOptions extends CanvasOptions {
  seed: number;
  /** examples per kind; kinds left out get none */
  counts: Partial<Record<QuestionKind, number>>;
  /** random stream name [PROBE_STREAM] */
  stream?: string;
}

const GENERATORS: Record<QuestionKind, (rng: WorldRandom, canvas: Canvas) => Question> = {
  counting: countingQuestion,
  ocr: ocrQuestion,
  grounding_cell: groundingCellQuestion,
  grounding_box: groundingBoxQuestion,
  recognition: recognitionQuestion,
  reasoning: reasoningQuestion,
  text: (rng) => textQuestion(rng),
};

/** One example of a kind, from its own stream. */
export function generateExample(kind: QuestionKind, index: number, seed: number, canvas: Canvas, stream: string = PROBE_STREAM): WorldExample {
  const rng = new WorldRandom(deriveSeed(seed, `${stream}/${kind}`, index));
  const q = GENERATORS[kind](rng, canvas);
  return {
    id: `${kind}-${String(index).padStart(4, '0')}`,
    kind,
    task: q.task,
    prompt: q.prompt,
    answer: q.answer,
    scene: q.scene,
    description: q.scene === null ? null : describeScene(q.scene),
    solution: q.solution,
    tags: q.tags,
  };
}

/**
 * Generates a world: `counts[kind]` examples of each kind, kinds in the order
 * of QUESTION_KINDS, ids `${kind}-${index}`. Same options, same examples.
 * @throws RangeError for an unknown kind, a bad count or bad canvas options
 */
export function generateWorld(options: WorldOptions): WorldExample[] {
  const canvas = resolveCanvas(options);
  for (const [kind, n] of Object.entries(options.counts)) {
    if (!(QUESTION_KINDS as readonly string[]).includes(kind)) throw new RangeError(`'counts' names an unknown kind ${JSON.stringify(kind)}; kinds: ${QUESTION_KINDS.join(', ')}`);
    if (!Number.isInteger(n) || n! < 0) throw new RangeError(`'counts.${kind}' must be a non-negative integer, got ${n}`);
  }
  const out: WorldExample[] = [];
  for (const kind of QUESTION_KINDS) {
    const n = options.counts[kind] ?? 0;
    for (let i = 0; i < n; i++) out.push(generateExample(kind, i, options.seed, canvas, options.stream ?? PROBE_STREAM));
  }
  return out;
}

/**
 * `n` training examples cycling through every kind, from the training
 * stream (never the probe stream), ids `train-${kind}-${index}`.
 * @throws RangeError for a bad n or canvas options
 */
export function trainingExamples(seed: number, n: number, options: CanvasOptions & { kinds?: readonly QuestionKind[] } = {}): WorldExample[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`'n' must be a non-negative integer, got ${n}`);
  const canvas = resolveCanvas(options);
  const kinds = options.kinds ?? QUESTION_KINDS;
  if (kinds.length === 0) throw new RangeError("'kinds' is empty");
  const out: WorldExample[] = [];
  for (let i = 0; i < n; i++) {
    const kind = kinds[i % kinds.length]!;
    const example = generateExample(kind, Math.floor(i / kinds.length), seed, canvas, TRAINING_STREAM);
    out.push({ ...example, id: `train-${example.id}` });
  }
  return out;
}
