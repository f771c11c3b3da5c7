/**
 * frankenscope's own probe format: one `probes.jsonl` with single-image and
 * text-only questions (docs/probe-sets.md). Each line:
 * `{"id","split","task"?,"prompt","image"?,"answer","description"?,"tags"?,"meta"?}`,
 * image paths relative to the file's folder.
 */
import { dirname } from 'node:path';
import type { AllowedRoots } from '../fs/confined-files.js';
import type { ImageCatalog } from './images.js';
import { readJsonl } from './jsonl-lines.js';
import { checkAnswer, checkImageMarkers, optionalObject, optionalString, requireId, requireString, requireTask } from './fields.js';
import { ProbeSetError, type ProbeSetErrorLocation } from './ProbeSetError.js';
import { PROBE_TASKS, type LocatedExample, type ProbeExample } from './types.js';

/** The file name looked for when a folder is given. */
export const JSONL_PROBES_FILE = 'probes.jsonl';

/** The task of a line that names none. */
export const DEFAULT_TASK = 'free';

const KNOWN_FIELDS = new Set(['id', 'split', 'task', 'prompt', 'image', 'answer', 'description', 'tags', 'meta']);

/** Reads one probes.jsonl (inside `roots`) into examples; images are registered with `catalog`. */
export async function readJsonlProbes(file: string, roots: AllowedRoots, catalog: ImageCatalog): Promise<LocatedExample[]> {
  const folder = dirname(file);
  return (await readJsonl(file, roots)).map(({ line, value }) => ({ file, line, example: readLine(value, { file, line }, folder, catalog) }));
}

function readLine(record: Record<string, unknown>, at: { file: string; line: number }, folder: string, catalog: ImageCatalog): ProbeExample {
  const id = requireId(record, at);
  const where: ProbeSetErrorLocation = { ...at, exampleId: id };
  const unknown = Object.keys(record).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) {
    throw new ProbeSetError('BAD_FIELD', `unknown field(s) ${unknown.map((k) => `'${k}'`).join(', ')}; known: ${[...KNOWN_FIELDS].join(', ')}`, where);
  }
  const split = requireString(record, 'split', where);
  const task = requireTask(record.task ?? DEFAULT_TASK, PROBE_TASKS, where);
  const prompt = requireString(record, 'prompt', where);
  const imagePath = optionalString(record, 'image', where);
  checkImageMarkers(prompt, imagePath !== null, where);
  const target = imagePath === null ? null : catalog.add(folder, imagePath, 'image', where);
  const answer = checkAnswer(task, record.answer, 'answer', where);
  return {
    id,
    task,
    split,
    prompt,
    images: { target, source: null },
    answers: { target: answer, source: null },
    description: optionalString(record, 'description', where),
    tags: readTags(record.tags, where),
    meta: optionalObject(record, 'meta', where),
  };
}

function readTags(value: unknown, where: ProbeSetErrorLocation): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((tag) => typeof tag === 'string')) {
    throw new ProbeSetError('BAD_FIELD', `'tags' must be an array of strings, got ${JSON.stringify(value)}`, where);
  }
  return [...(value as string[])];
}
