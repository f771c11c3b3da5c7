/**
 * Field checks shared by the probe-set readers. Each names the file, line,
 * example id and field that was wrong.
 */
import { PROBE_TASKS, type BoundingBox, type ProbeAnswer, type ProbeTask } from './types.js';
import { ProbeSetError, type ProbeSetErrorLocation } from './ProbeSetError.js';

export const IMAGE_MARKER = '<image>';

/** A required, non-empty string field. */
export function requireString(record: Record<string, unknown>, key: string, where: ProbeSetErrorLocation): string {
  const value = record[key];
  if (value === undefined || value === null) throw new ProbeSetError('MISSING_FIELD', `'${key}' is missing`, where);
  if (typeof value !== 'string' || value.length === 0) {
    throw new ProbeSetError('BAD_FIELD', `'${key}' must be a non-empty string, got ${JSON.stringify(value)}`, where);
  }
  return value;
}

/** What an unrecognised line is told: the two line shapes the readers accept. */
export const ACCEPTED_FORMATS =
  'frankenscope reads four formats (docs/probe-sets.md): probes.jsonl lines {"id", "split", "task"?, "prompt", "image"?, "answer", ...}, ' +
  'reference task folders whose data.jsonl lines are {"id", "task", "target_image", "source_image", "prompt", "meta"}, ' +
  'GSM8K lines {"question", "answer": "... #### n"} and MATH-500 lines {"problem", "solution", "answer", "subject", "level", "unique_id"}';

/**
 * An example's id. A line without one is most likely some other JSONL
 * (a chat log, a dataset export), so the message says what is accepted.
 */
export function requireId(record: Record<string, unknown>, where: ProbeSetErrorLocation): string {
  if (record.id === undefined || record.id === null) {
    throw new ProbeSetError('MISSING_FIELD', `'id' is missing, so this line is no probe: ${ACCEPTED_FORMATS}`, where);
  }
  return requireString(record, 'id', where);
}

/** An optional string field: undefined and null read as null. */
export function optionalString(record: Record<string, unknown>, key: string, where: ProbeSetErrorLocation): string | null {
  const value = record[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new ProbeSetError('BAD_FIELD', `'${key}' must be a string or null, got ${JSON.stringify(value)}`, where);
  return value;
}

/** A task name that must be one of `allowed`. */
export function requireTask(value: unknown, allowed: readonly ProbeTask[], where: ProbeSetErrorLocation): ProbeTask {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ProbeSetError('UNKNOWN_TASK', `task ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`, where);
  }
  return value as ProbeTask;
}

/** True when `value` names a task with a scoring rule. */
export function isProbeTask(value: unknown): value is ProbeTask {
  return typeof value === 'string' && (PROBE_TASKS as readonly string[]).includes(value);
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const YES_NO = /^(yes|no)$/i;

/**
 * Checks a gold answer against what its task can score; returns it in the
 * stored form (numbers of counting/numeric become their decimal text).
 */
export function checkAnswer(task: ProbeTask, value: unknown, field: string, where: ProbeSetErrorLocation): ProbeAnswer {
  if (value === undefined || value === null) {
    throw new ProbeSetError('MISSING_ANSWER', `task '${task}' needs '${field}'`, where);
  }
  const bad = (expected: string): never => {
    throw new ProbeSetError('BAD_ANSWER', `'${field}' must be ${expected} for task '${task}', got ${JSON.stringify(value)}`, where);
  };
  switch (task) {
    case 'grounding':
      return checkBox(value) ?? bad('[x1, y1, x2, y2] with x1 <= x2 and y1 <= y2');
    case 'counting': {
      const text = typeof value === 'number' ? String(value) : value;
      return typeof text === 'string' && INTEGER.test(text.trim()) ? text : bad('an integer (or its text)');
    }
    case 'numeric': {
      const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
      return typeof text === 'string' && NUMBER.test(text.trim().replaceAll(',', '')) ? text : bad('a number (or its text)');
    }
    case 'recognition':
      return typeof value === 'string' && YES_NO.test(value.trim()) ? value : bad("'yes' or 'no'");
    case 'math': {
      // a number is its text; anything else (LaTeX) is compared by the equivalence rules
      const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
      return typeof text === 'string' && text.trim().length > 0 ? text : bad('a non-empty string (a number or LaTeX)');
    }
    case 'ocr':
    case 'free':
      return typeof value === 'string' && value.trim().length > 0 ? value : bad('a non-empty string');
  }
}

function checkBox(value: unknown): BoundingBox | undefined {
  if (!Array.isArray(value) || value.length !== 4) return undefined;
  if (!value.every((v) => typeof v === 'number' && Number.isFinite(v))) return undefined;
  const [x1, y1, x2, y2] = value as number[];
  return x1! <= x2! && y1! <= y2! ? [x1!, y1!, x2!, y2!] : undefined;
}

/** Counts `<image>` markers and enforces: at most one, and none without an image. */
export function checkImageMarkers(prompt: string, hasImage: boolean, where: ProbeSetErrorLocation): void {
  const markers = prompt.split(IMAGE_MARKER).length - 1;
  if (markers > 1) {
    throw new ProbeSetError('TOO_MANY_IMAGE_MARKERS', `'prompt' holds ${markers} '${IMAGE_MARKER}' markers; at most one is allowed`, where);
  }
  if (markers === 1 && !hasImage) {
    throw new ProbeSetError('IMAGE_MARKER_WITHOUT_IMAGE', `'prompt' holds '${IMAGE_MARKER}' but the example has no image`, where);
  }
}

/** A plain JSON object field (meta); absent reads as {}. */
export function optionalObject(record: Record<string, unknown>, key: string, where: ProbeSetErrorLocation): Record<string, unknown> {
  const value = record[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ProbeSetError('BAD_FIELD', `'${key}' must be a JSON object, got ${JSON.stringify(value)}`, where);
  }
  return value as Record<string, unknown>;
}
