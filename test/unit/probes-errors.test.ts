import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProbeSet, ProbeSetError, type ProbeSetErrorCode } from '../../src/engine/probes/index.js';
import { jsonl, pairLine, put, withTempDir, writeJsonlSet, writeReferenceRoot } from './probes-fixtures.js';

/** Loads `path` and returns the ProbeSetError it must throw. */
async function failure(path: string): Promise<ProbeSetError> {
  const error = await loadProbeSet(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProbeSetError);
  return error as ProbeSetError;
}

function expectError(error: ProbeSetError, code: ProbeSetErrorCode, where: { file?: string; line?: number; exampleId?: string }) {
  expect(error.code).toBe(code);
  if (where.file !== undefined) {
    expect(error.file).toBe(where.file);
    expect(error.message).toContain(where.file);
  }
  if (where.line !== undefined) {
    expect(error.line).toBe(where.line);
    expect(error.message).toContain(`:${where.line}`);
  }
  if (where.exampleId !== undefined) {
    expect(error.exampleId).toBe(where.exampleId);
    expect(error.message).toContain(`'${where.exampleId}'`);
  }
}

/** A reference root whose counting/data.jsonl is replaced by `lines` (strings are written raw). */
function referenceWith(dir: string, lines: readonly (string | Record<string, unknown>)[]): string {
  writeReferenceRoot(dir);
  const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
  writeFileSync(join(dir, 'counting', 'data.jsonl'), text);
  return join(dir, 'counting', 'data.jsonl');
}

describe('reference format: each broken rule has its code, file, line and example id', () => {
  it('a missing image file is MISSING_IMAGE at its line', () =>
    withTempDir(async (dir) => {
      writeReferenceRoot(dir);
      rmSync(join(dir, 'counting', 'images', 'c1_s.png'));
      const error = await failure(dir);
      expectError(error, 'MISSING_IMAGE', { file: join(dir, 'counting', 'data.jsonl'), line: 2, exampleId: 'c1' });
      expect(error.message).toContain('source_image');
    }));

  it('a line that is not JSON is BAD_JSON with its line number (blank lines count)', () =>
    withTempDir(async (dir) => {
      const file = referenceWith(dir, [pairLine('c0'), '', '{"id": "c1", "task": ']);
      expectError(await failure(dir), 'BAD_JSON', { file, line: 3 });
    }));

  it('a JSON line that is not an object is BAD_JSON', () =>
    withTempDir(async (dir) => {
      const file = referenceWith(dir, ['[1, 2]']);
      expectError(await failure(dir), 'BAD_JSON', { file, line: 1 });
    }));

  it('a task outside counting/ocr/grounding/recognition is UNKNOWN_TASK', () =>
    withTempDir(async (dir) => {
      const file = referenceWith(dir, [pairLine('c0'), pairLine('c1', { task: 'colour' })]);
      const error = await failure(dir);
      expectError(error, 'UNKNOWN_TASK', { file, line: 2, exampleId: 'c1' });
      expect(error.message).toContain('"colour"');
    }));

  it('a missing answer field is MISSING_ANSWER naming the meta field', () =>
    withTempDir(async (dir) => {
      const file = referenceWith(dir, [pairLine('c0', { meta: { target_answer: '3' } })]);
      const error = await failure(dir);
      expectError(error, 'MISSING_ANSWER', { file, line: 1, exampleId: 'c0' });
      expect(error.message).toContain('meta.source_answer');
    }));

  it('grounding needs boxes, ocr needs text fields', () =>
    withTempDir(async (dir) => {
      const file = referenceWith(dir, [pairLine('c0', { task: 'ocr', meta: { target_answer: 'a', source_answer: 'b' } })]);
      expect((await failure(dir)).message).toContain('meta.target_text');
      writeFileSync(file, jsonl([pairLine('c0', { task: 'grounding', meta: { target_bbox_xyxy: [1, 2, 3], source_bbox_xyxy: [0, 0, 1, 1] } })]));
      expectError(await failure(dir), 'BAD_ANSWER', { file, line: 1, exampleId: 'c0' });
    }));

  it('a counting answer without an integer is BAD_ANSWER', () =>
    withTempDir(async (dir) => {
      referenceWith(dir, [pairLine('c0', { meta: { target_answer: 'three', source_answer: '7' } })]);
      expect((await failure(dir)).code).toBe('BAD_ANSWER');
    }));

  it('the same id twice, even across task folders, is DUPLICATE_ID naming both places', () =>
    withTempDir(async (dir) => {
      const file = referenceWith(dir, [pairLine('c0'), pairLine('g0')]);
      put(dir, 'counting/images/g0_t.png', 'x');
      put(dir, 'counting/images/g0_s.png', 'y');
      const error = await failure(dir);
      expectError(error, 'DUPLICATE_ID', { file: join(dir, 'grounding', 'data.jsonl'), line: 1, exampleId: 'g0' });
      expect(error.message).toContain(`${file}:2`);
    }));

  it('a prompt with two <image> markers is TOO_MANY_IMAGE_MARKERS', () =>
    withTempDir(async (dir) => {
      const file = referenceWith(dir, [pairLine('c0', { prompt: '<image><image>How many?' })]);
      expectError(await failure(dir), 'TOO_MANY_IMAGE_MARKERS', { file, line: 1, exampleId: 'c0' });
    }));

  it('an image path leaving the root is IMAGE_OUTSIDE_ROOT', () =>
    withTempDir(async (dir) => {
      const file = referenceWith(dir, [pairLine('c0', { target_image: '../../etc/passwd' })]);
      expectError(await failure(dir), 'IMAGE_OUTSIDE_ROOT', { file, line: 1, exampleId: 'c0' });
    }));

  it('only blank lines is EMPTY_SET; a folder with nothing to read is NOT_A_PROBE_SET; no path is NOT_FOUND', () =>
    withTempDir(async (dir) => {
      put(dir, 'only/data.jsonl', '\n\n');
      expect((await failure(join(dir, 'only'))).code).toBe('EMPTY_SET');
      put(dir, 'nothing/readme.txt', 'hi');
      expect((await failure(join(dir, 'nothing'))).code).toBe('NOT_A_PROBE_SET');
      expect((await failure(join(dir, 'absent'))).code).toBe('NOT_FOUND');
    }));
});

describe('JSONL format: its own rules', () => {
  /** Our-format set whose probes.jsonl is replaced by `lines`. */
  function setWith(dir: string, lines: readonly Record<string, unknown>[]): string {
    writeJsonlSet(dir);
    writeFileSync(join(dir, 'probes.jsonl'), jsonl(lines));
    return join(dir, 'probes.jsonl');
  }

  it('a text-only example whose prompt holds <image> is IMAGE_MARKER_WITHOUT_IMAGE', () =>
    withTempDir(async (dir) => {
      const file = setWith(dir, [{ id: 't', split: 's', prompt: '<image>What is 2+2?', answer: '4' }]);
      expectError(await failure(dir), 'IMAGE_MARKER_WITHOUT_IMAGE', { file, line: 1, exampleId: 't' });
    }));

  it('a missing answer is MISSING_ANSWER; a missing split is MISSING_FIELD; an unknown task is UNKNOWN_TASK', () =>
    withTempDir(async (dir) => {
      const file = setWith(dir, [{ id: 't', split: 's', prompt: 'q' }]);
      expectError(await failure(dir), 'MISSING_ANSWER', { file, line: 1, exampleId: 't' });
      setWith(dir, [{ id: 't', prompt: 'q', answer: 'a' }]);
      expect((await failure(dir)).code).toBe('MISSING_FIELD');
      setWith(dir, [{ id: 't', split: 's', task: 'vqa', prompt: 'q', answer: 'a' }]);
      expect((await failure(dir)).code).toBe('UNKNOWN_TASK');
    }));

  it('a misspelt field is BAD_FIELD naming it', () =>
    withTempDir(async (dir) => {
      setWith(dir, [{ id: 't', split: 's', prompt: 'q', answer: 'a', images: 'img/a.png' }]);
      const error = await failure(dir);
      expect(error.code).toBe('BAD_FIELD');
      expect(error.message).toContain("'images'");
    }));

  it('a missing image is MISSING_IMAGE; a grounding answer that is not a box is BAD_ANSWER', () =>
    withTempDir(async (dir) => {
      const file = setWith(dir, [{ id: 't', split: 's', prompt: 'q', image: 'img/none.png', answer: 'a' }]);
      expectError(await failure(dir), 'MISSING_IMAGE', { file, line: 1, exampleId: 't' });
      setWith(dir, [{ id: 't', split: 's', task: 'grounding', prompt: 'q', image: 'img/a.png', answer: [4, 4, 1, 1] }]);
      expect((await failure(dir)).code).toBe('BAD_ANSWER');
    }));
});
