/**
 * Whether a generated answer is right, per task. Rules in
 * docs/probe-sets.md, "Scoring".
 */
import type { BoundingBox, ProbeAnswer, ProbeExample, ProbeTask } from '../probes/types.js';
import { extractMathAnswer, mathAnswersEqual } from './math-answer.js';
import { extractTaggedAnswer, normalizeAnswer } from './normalize.js';

/** IoU a grounding answer needs when the example names no threshold. */
export const DEFAULT_IOU_THRESHOLD = 0.5;

/** Relative tolerance of the numeric task. */
export const NUMERIC_TOLERANCE = 1e-6;

// a digit run glued to a letter ('x1', 'Q3') is a label, not a number
const NUMBER = /(?<![\p{L}\d.])[-+]?\d+(?:\.\d+)?/gu;
const GROUPED_NUMBER = /(?<![\p{L}\d.])[-+]?\d[\d,]*(?:\.\d+)?/gu;
const WORD = /\p{L}+/gu;
const EDGE_PUNCTUATION = /^[\p{P}\s]+|[\p{P}\s]+$/gu;

/** The outcome of scoring one answer. */
export interface AnswerScore {
  correct: boolean;
  /** 1/0 for most tasks; the IoU for grounding (0 when no box could be read) */
  score: number;
  /** what was read from the answer: a number, 'yes'/'no', a box, the normalised text; null when nothing could be read */
  parsed: number | string | BoundingBox | null;
}

/** Options of `scoreAnswer`. */
export interface ScoreOptions {
  /** grounding: the IoU needed; default DEFAULT_IOU_THRESHOLD */
  iouThreshold?: number;
}

/** The first number in the (tag-extracted) text when it is an integer; else null. */
export function extractFirstInteger(text: string): number | null {
  const match = extractTaggedAnswer(text).match(NUMBER);
  if (match === null) return null;
  const value = Number(match[0]);
  return Number.isInteger(value) ? value : null;
}

/** The last number in the (tag-extracted) text, thousands separators allowed; null when none. */
export function extractLastNumber(text: string): number | null {
  const matches = extractTaggedAnswer(text).match(GROUPED_NUMBER);
  if (matches === null) return null;
  const value = Number(matches[matches.length - 1]!.replaceAll(',', ''));
  return Number.isFinite(value) ? value : null;
}

/** 'yes'/'no' when the first word is one of them, or else exactly one of them appears as a word; else null. */
export function parseYesNo(text: string): 'yes' | 'no' | null {
  const words: string[] = normalizeAnswer(text).match(WORD) ?? [];
  if (words[0] === 'yes' || words[0] === 'no') return words[0];
  const yes = words.includes('yes');
  const no = words.includes('no');
  return yes === no ? null : yes ? 'yes' : 'no';
}

/** The first four numbers of the (tag-extracted) text as [x1, y1, x2, y2]; null when fewer. */
export function parseBox(text: string): BoundingBox | null {
  const numbers = extractTaggedAnswer(text).match(NUMBER);
  if (numbers === null || numbers.length < 4) return null;
  const [x1, y1, x2, y2] = numbers.slice(0, 4).map(Number);
  return [x1!, y1!, x2!, y2!];
}

/** Intersection over union of two [x1, y1, x2, y2] boxes (continuous coordinates; an inverted box has area 0). */
export function boxIou(a: BoundingBox, b: BoundingBox): number {
  const area = (box: BoundingBox) => Math.max(0, box[2] - box[0]) * Math.max(0, box[3] - box[1]);
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

function ocrWord(text: string): string {
  return normalizeAnswer(text).replace(EDGE_PUNCTUATION, '');
}

/**
 * Scores `prediction` against `gold` under the rule of `task`.
 * @throws TypeError when `gold` has the wrong shape for the task; RangeError for a bad iouThreshold
 */
export function scoreAnswer(task: ProbeTask, prediction: string, gold: ProbeAnswer, options: ScoreOptions = {}): AnswerScore {
  const goldText = (): string => {
    if (typeof gold !== 'string') throw new TypeError(`scoreAnswer: 'gold' must be a string for task '${task}', got ${JSON.stringify(gold)}`);
    return gold;
  };
  const binary = (correct: boolean, parsed: AnswerScore['parsed']): AnswerScore => ({ correct, score: correct ? 1 : 0, parsed });
  switch (task) {
    case 'counting': {
      const value = extractFirstInteger(prediction);
      return binary(value !== null && value === Number(goldText().trim()), value);
    }
    case 'numeric': {
      const value = extractLastNumber(prediction);
      const expected = Number(goldText().trim().replaceAll(',', ''));
      return binary(value !== null && Math.abs(value - expected) <= NUMERIC_TOLERANCE * Math.max(1, Math.abs(expected)), value);
    }
    case 'recognition': {
      const value = parseYesNo(prediction);
      return binary(value !== null && value === parseYesNo(goldText()), value);
    }
    case 'ocr': {
      const value = ocrWord(prediction);
      return binary(value === ocrWord(goldText()), value);
    }
    case 'math': {
      const value = extractMathAnswer(prediction);
      return binary(value !== null && mathAnswersEqual(value, goldText()), value);
    }
    case 'free': {
      const value = normalizeAnswer(prediction);
      return binary(value === normalizeAnswer(goldText()), value);
    }
    case 'grounding': {
      if (!Array.isArray(gold)) throw new TypeError(`scoreAnswer: 'gold' must be a box for task 'grounding', got ${JSON.stringify(gold)}`);
      const threshold = options.iouThreshold ?? DEFAULT_IOU_THRESHOLD;
      if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`scoreAnswer: 'iouThreshold' must be in (0, 1], got ${threshold}`);
      const box = parseBox(prediction);
      const iou = box === null ? 0 : boxIou(box, gold);
      return { correct: box !== null && iou >= threshold, score: iou, parsed: box };
    }
  }
}

/** Whether `prediction` is right for `task` (see scoreAnswer). */
export function isCorrect(task: ProbeTask, prediction: string, gold: ProbeAnswer, options: ScoreOptions = {}): boolean {
  return scoreAnswer(task, prediction, gold, options).correct;
}

/**
 * Scores an answer to a probe example against its target gold answer (or,
 * for pairs, the source's: the transfer check). Grounding uses the
 * example's `meta.iou_threshold` when it has one.
 * @throws RangeError when `against` is 'source' and the example has no source answer
 */
export function scoreExample(example: ProbeExample, prediction: string, against: 'target' | 'source' = 'target'): AnswerScore {
  const gold = example.answers[against];
  if (gold === null) throw new RangeError(`scoreExample: example '${example.id}' has no ${against} answer`);
  const threshold = example.meta.iou_threshold;
  return scoreAnswer(example.task, prediction, gold, typeof threshold === 'number' ? { iouThreshold: threshold } : {});
}
