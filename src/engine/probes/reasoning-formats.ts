/**
 * Text-only reasoning sets read as they ship (docs/probe-sets.md,
 * "Formats 3 and 4"):
 * - GSM8K (openai/grade-school-math): `train.jsonl` / `test.jsonl`, lines
 *   `{"question", "answer"}` where the answer is a worked solution ending
 *   in `#### n`; the gold is n without thousands commas.
 * - MATH-500: `test.jsonl`, lines `{"problem", "solution", "answer",
 *   "subject", "level", "unique_id"}`; the gold is `answer` (often LaTeX).
 * Every example is task `math`, split `reasoning`, with no image.
 */
import { basename } from 'node:path';
import type { JsonlRecord } from './jsonl-lines.js';
import { checkAnswer, checkImageMarkers, requireString } from './fields.js';
import { ProbeSetError, type ProbeSetErrorLocation } from './ProbeSetError.js';
import type { LocatedExample, ProbeExample, ProbeSetFormat } from './types.js';

/** The files a reasoning folder is looked at for, in the order one is chosen: the evaluation split first. */
export const REASONING_FILES = ['test.jsonl', 'train.jsonl'] as const;

/** The split every reasoning example gets, so the transferability/necessity 'reasoning' setting selects it. */
export const REASONING_SPLIT = 'reasoning';

/**
 * Appended to every question (after a blank line). It is the instruction
 * of the reference's evaluation scripts (Qwen2.5-Math chain-of-thought
 * prompt); it makes models put the final answer where the extraction rules
 * look first (`\boxed{}`). Registered as part of the prompt, so it counts
 * in the fingerprint and is what the warehouse shows.
 */
export const REASONING_INSTRUCTION = 'Please reason step by step, and put your final answer within \\boxed{}.';

/** The format of a line by its keys, or null when it is neither GSM8K nor MATH-500. */
export function detectReasoningFormat(record: Record<string, unknown>): Extract<ProbeSetFormat, 'gsm8k' | 'math500'> | null {
  // a probes.jsonl line has an id; these formats have none (MATH-500 calls it unique_id)
  if ('id' in record) return null;
  if ('problem' in record && 'answer' in record) return 'math500';
  if ('question' in record && 'answer' in record) return 'gsm8k';
  return null;
}

const GSM8K_NUMBER = /^[+-]?(\d[\d,]*(\.\d+)?|\.\d+)$/;

/** Reads the lines of one GSM8K or MATH-500 file into examples; `file` names the split in ids and meta. */
export function readReasoningRecords(format: 'gsm8k' | 'math500', file: string, records: readonly JsonlRecord[]): LocatedExample[] {
  const split = basename(file).replace(/\.jsonl$/, '');
  // line numbers padded to a fixed width, so id order (how examples are selected) is line order
  const width = Math.max(5, String(records[records.length - 1]?.line ?? 0).length);
  return records.map(({ line, value }) => {
    const at = { file, line };
    const lineId = `${split}-${String(line).padStart(width, '0')}`;
    const example = format === 'gsm8k' ? gsm8kLine(value, at, lineId, split) : math500Line(value, at, lineId, split);
    return { file, line, example };
  });
}

function prompt(question: string): string {
  return `${question}\n\n${REASONING_INSTRUCTION}`;
}

function gsm8kLine(record: Record<string, unknown>, at: { file: string; line: number }, id: string, split: string): ProbeExample {
  const where: ProbeSetErrorLocation = { ...at, exampleId: id };
  const question = requireString(record, 'question', where);
  checkImageMarkers(question, false, where);
  if (record.answer === undefined || record.answer === null) throw new ProbeSetError('MISSING_ANSWER', "a GSM8K line needs 'answer' (the worked solution ending in '#### n')", where);
  if (typeof record.answer !== 'string') throw new ProbeSetError('BAD_ANSWER', `'answer' must be a string ending in '#### n', got ${JSON.stringify(record.answer)}`, where);
  const marker = record.answer.lastIndexOf('####');
  if (marker < 0) throw new ProbeSetError('BAD_ANSWER', "'answer' has no '#### n' final line, so there is no gold number", where);
  const final = record.answer.slice(marker + 4).trim();
  if (!GSM8K_NUMBER.test(final)) throw new ProbeSetError('BAD_ANSWER', `the text after '####' must be a number, got ${JSON.stringify(final)}`, where);
  return {
    id,
    task: 'math',
    split: REASONING_SPLIT,
    prompt: prompt(question),
    images: { target: null, source: null },
    answers: { target: final.replaceAll(',', ''), source: null },
    description: null,
    tags: [split],
    meta: { solution: record.answer.slice(0, marker).trimEnd(), file: `${split}.jsonl` },
  };
}

function math500Line(record: Record<string, unknown>, at: { file: string; line: number }, lineId: string, split: string): ProbeExample {
  const uniqueId = record.unique_id;
  if (uniqueId !== undefined && uniqueId !== null && (typeof uniqueId !== 'string' || uniqueId.length === 0)) {
    throw new ProbeSetError('BAD_FIELD', `'unique_id' must be a non-empty string, got ${JSON.stringify(uniqueId)}`, at);
  }
  const id = typeof uniqueId === 'string' ? uniqueId : lineId;
  const where: ProbeSetErrorLocation = { ...at, exampleId: id };
  const problem = requireString(record, 'problem', where);
  checkImageMarkers(problem, false, where);
  const answer = checkAnswer('math', record.answer, 'answer', where) as string;
  const meta: Record<string, unknown> = { file: `${split}.jsonl` };
  for (const key of ['solution', 'subject', 'level'] as const) if (record[key] !== undefined) meta[key] = record[key];
  return {
    id,
    task: 'math',
    split: REASONING_SPLIT,
    prompt: prompt(problem),
    images: { target: null, source: null },
    answers: { target: answer, source: null },
    description: null,
    tags: typeof record.subject === 'string' && record.subject !== '' ? [split, record.subject] : [split],
    meta,
  };
}
