import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, test } from 'vitest';
import { loadProbeSet, ProbeSetError, REFERENCE_SPLIT } from '../../src/engine/probes/index.js';
import { writeReferenceRoot, withTempDir } from './probes-fixtures.js';
import { REFERENCE_DATASET, requireReferenceDataset } from '../helpers/reference-dataset.js';

const DATASET = REFERENCE_DATASET;
const TASKS = ['counting', 'grounding', 'ocr', 'recognition'];

/** The dataset's lines read with plain JSON.parse, independently of the loader. */
function rawLines(task: string): Record<string, any>[] {
  return readFileSync(join(DATASET, task, 'data.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, any>);
}

const ANSWER_KEYS: Record<string, [string, string]> = {
  counting: ['target_answer', 'source_answer'],
  recognition: ['target_answer', 'source_answer'],
  ocr: ['target_text', 'source_text'],
  grounding: ['target_bbox_xyxy', 'source_bbox_xyxy'],
};

describe('the published vision_functionality pairs', () => {
  test(`load all 400 pairs with their answers`, async () => {
    requireReferenceDataset();
    const set = await loadProbeSet(DATASET);
    expect(set.format).toBe('reference');
    expect(set.root).toBe(DATASET);
    expect(set.examples).toHaveLength(400);
    const perTask = new Map<string, number>();
    for (const e of set.examples) perTask.set(e.task, (perTask.get(e.task) ?? 0) + 1);
    expect(Object.fromEntries(perTask)).toEqual({ counting: 100, grounding: 100, ocr: 100, recognition: 100 });
    expect(new Set(set.examples.map((e) => e.split))).toEqual(new Set([REFERENCE_SPLIT]));

    const byId = new Map(set.examples.map((e) => [e.id, e]));
    const c0 = byId.get('counting_000000')!;
    expect(c0.answers).toEqual({ target: '3', source: '10' });
    expect(c0.prompt).toBe('<image>How many items are there in the image?');
    // grounding prompts carry no <image> marker in the published data and stay verbatim
    expect(byId.get('grounding_000000')!.prompt).toBe('Locate the object: red circle. Return bounding box as x1,y1,x2,y2.');
    expect(byId.get('grounding_000000')!.answers).toEqual({ target: [283, 278, 368, 348], source: [15, 320, 81, 382] });
    expect(byId.get('ocr_000000')!.answers).toEqual({ target: 'backpropagation', source: 'singular' });

    // every answer, prompt and image path against the independently parsed lines
    for (const task of TASKS) {
      for (const line of rawLines(task)) {
        const e = byId.get(line.id)!;
        expect(e.task).toBe(task);
        expect(e.prompt).toBe(line.prompt);
        expect(e.meta).toEqual(line.meta);
        const [t, s] = ANSWER_KEYS[task]!;
        expect(e.answers).toEqual({ target: line.meta[t], source: line.meta[s] });
        expect(e.images.target!.path).toBe(`${task}/${line.target_image}`);
        expect(e.images.source!.path).toBe(`${task}/${line.source_image}`);
      }
    }
    const r1 = byId.get('recognition_000001')!;
    const bytes = readFileSync(join(DATASET, 'recognition', rawLines('recognition')[1]!.source_image));
    expect(r1.images.source!.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  // the published set ships recognition_000058_t.jpg cut off at 262144 bytes (no JPEG end marker)
  test(`decoding finds the one truncated image; skipInvalidExamples leaves its pair out`, async () => {
    requireReferenceDataset();
    const recognition = join(DATASET, 'recognition');
    const error = await loadProbeSet(recognition, { decodeImages: true }).catch((e: unknown) => e as ProbeSetError);
    expect(error).toBeInstanceOf(ProbeSetError);
    expect(error).toMatchObject({ code: 'BAD_IMAGE', exampleId: 'recognition_000058', line: 59 });
    expect((error as ProbeSetError).message).toContain("'target_image' = 'images/recognition_000058_t.jpg'");

    const set = await loadProbeSet(recognition, { decodeImages: true, skipInvalidExamples: true });
    expect(set.examples).toHaveLength(99);
    expect(set.examples.some((e) => e.id === 'recognition_000058')).toBe(false);
    expect(set.skipped).toEqual([{ id: 'recognition_000058', code: 'BAD_IMAGE', reason: expect.stringContaining("'target_image' = 'images/recognition_000058_t.jpg' is not a PNG or JPEG image that decodes") }]);
  });

  test(`a single task folder loads on its own`, async () => {
    requireReferenceDataset();
    const set = await loadProbeSet(join(DATASET, 'ocr'));
    expect(set.examples).toHaveLength(100);
    expect(set.examples.every((e) => e.task === 'ocr')).toBe(true);
    expect(set.examples[0]!.images.target!.path).toBe(rawLines('ocr')[0]!.target_image);
  });
});

describe('reference format on a generated root', () => {
  it('reads task folders in name order, ignoring files and folders without data.jsonl', () =>
    withTempDir(async (dir) => {
      const set = await loadProbeSet(writeReferenceRoot(dir));
      expect(set.examples.map((e) => e.id)).toEqual(['c0', 'c1', 'g0']);
      expect(set.name).toBe(dir.split('/').pop());
      const g0 = set.examples[2]!;
      expect(g0.answers).toEqual({ target: [1, 2, 30, 40], source: [5, 5, 9, 9] });
      expect(g0.images.target!.sha256).toBe(createHash('sha256').update('target bytes of g0').digest('hex'));
      expect(g0.description).toBeNull();
    }));

  it('accepts the data.jsonl file itself, and a name given by the caller', () =>
    withTempDir(async (dir) => {
      writeReferenceRoot(dir);
      const set = await loadProbeSet(join(dir, 'counting', 'data.jsonl'), { name: 'counting only' });
      expect(set.format).toBe('reference');
      expect(set.name).toBe('counting only');
      expect(set.examples.map((e) => e.answers.target)).toEqual(['3', '4']);
    }));
});
