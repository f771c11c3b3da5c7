/**
 * The reference's probe-pair format, read as published: one folder per task
 * holding data.jsonl, each line
 * `{"id","task","target_image","source_image","prompt","meta":{...}}`,
 * image paths relative to the task folder, gold answers in `meta`.
 */
import { dirname, join } from 'node:path';
import type { AllowedRoots } from '../fs/confined-files.js';
import type { ImageCatalog } from './images.js';
import { readJsonl } from './jsonl-lines.js';
import { checkAnswer, checkImageMarkers, optionalObject, requireId, requireString, requireTask } from './fields.js';
import { ProbeSetError, type ProbeSetErrorLocation } from './ProbeSetError.js';
import { REFERENCE_SPLIT, REFERENCE_TASKS, type LocatedExample, type ProbeAnswer, type ProbeExample } from './types.js';

/** The file each task folder holds. */
export const REFERENCE_DATA_FILE = 'data.jsonl';

/** Where each task keeps its target and source answers in `meta`. */
const ANSWER_FIELDS: Readonly<Record<string, readonly [string, string]>> = {
  counting: ['target_answer', 'source_answer'],
  recognition: ['target_answer', 'source_answer'],
  ocr: ['target_text', 'source_text'],
  grounding: ['target_bbox_xyxy', 'source_bbox_xyxy'],
};

/**
 * Reads the data.jsonl files given (absolute paths, in order) into examples;
 * images are registered with `catalog` (the caller hashes them).
 */
export async function readReferenceFiles(files: readonly string[], roots: AllowedRoots, catalog: ImageCatalog): Promise<LocatedExample[]> {
  const examples: LocatedExample[] = [];
  for (const file of files) {
    for (const { line, value } of await readJsonl(file, roots)) {
      examples.push({ file, line, example: readLine(value, { file, line }, dirname(file), catalog) });
    }
  }
  return examples;
}

function readLine(record: Record<string, unknown>, at: { file: string; line: number }, folder: string, catalog: ImageCatalog): ProbeExample {
  const id = requireId(record, at);
  const where: ProbeSetErrorLocation = { ...at, exampleId: id };
  if (record.task === undefined) throw new ProbeSetError('MISSING_FIELD', "'task' is missing", where);
  const task = requireTask(record.task, REFERENCE_TASKS, where);
  const prompt = requireString(record, 'prompt', where);
  checkImageMarkers(prompt, true, where);
  const target = catalog.add(folder, requireString(record, 'target_image', where), 'target_image', where);
  const source = catalog.add(folder, requireString(record, 'source_image', where), 'source_image', where);
  if (record.meta === undefined || record.meta === null) throw new ProbeSetError('MISSING_FIELD', "'meta' is missing (it holds the answers)", where);
  const meta = optionalObject(record, 'meta', where);
  const [targetField, sourceField] = ANSWER_FIELDS[task]!;
  const answer = (field: string): ProbeAnswer => checkAnswer(task, meta[field], `meta.${field}`, where);
  if (task === 'grounding' && meta.iou_threshold !== undefined) checkThreshold(meta.iou_threshold, where);
  return {
    id,
    task,
    split: REFERENCE_SPLIT,
    prompt,
    images: { target, source },
    answers: { target: answer(targetField), source: answer(sourceField) },
    description: null,
    tags: [],
    meta,
  };
}

function checkThreshold(value: unknown, where: ProbeSetErrorLocation): void {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw new ProbeSetError('BAD_FIELD', `'meta.iou_threshold' must be a number in (0, 1], got ${JSON.stringify(value)}`, where);
  }
}

/** The data.jsonl of a task folder. */
export function referenceDataFile(taskFolder: string): string {
  return join(taskFolder, REFERENCE_DATA_FILE);
}
