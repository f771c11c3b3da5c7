/** The shape of one generated question. */
import type { BoundingBox, ProbeTask } from '../engine/probes/index.js';
import type { Scene } from './scene.js';

/** Question kinds of the world. */
export const QUESTION_KINDS = ['counting', 'ocr', 'grounding_cell', 'grounding_box', 'recognition', 'reasoning', 'text'] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];

/** The vision kinds (perception and alignment splits). */
export const VISION_KINDS: readonly QuestionKind[] = ['counting', 'ocr', 'grounding_cell', 'grounding_box', 'recognition'];

/** One question with its gold answer. */
export interface WorldExample {
  /** unique within one generated world, e.g. 'counting-0003' */
  id: string;
  kind: QuestionKind;
  /** the scoring rule (docs/probe-sets.md) */
  task: ProbeTask;
  /** the question; image questions start with '<image>' */
  prompt: string;
  /** short text, or [x1, y1, x2, y2] pixels for grounding_box */
  answer: string | BoundingBox;
  /** the picture asked about; null for text-only questions */
  scene: Scene | null;
  /** complete description of the scene; null for text-only questions */
  description: string | null;
  /** a worked solution '<think>..</think><answer>..</answer>' for reasoning and text questions, else null */
  solution: string | null;
  /** the question template, e.g. ['counting', 'by-colour'] */
  tags: string[];
}

/** What a question generator returns before the id, scene description and kind are attached. */
export interface Question {
  task: ProbeTask;
  prompt: string;
  answer: string | BoundingBox;
  scene: Scene | null;
  solution: string | null;
  tags: string[];
}

/** Writes a worked solution in the answer-tag format the scorer reads. */
export function worked(thinking: string, answer: string): string {
  return `<think>${thinking}</think><answer>${answer}</answer>`;
}
