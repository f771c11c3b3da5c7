import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TASK, loadProbeSet } from '../../src/engine/probes/index.js';
import { withTempDir, writeJsonlSet } from './probes-fixtures.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the probes.jsonl format', () => {
  it('reads image, text-only and alignment questions into the uniform shape', () =>
    withTempDir(async (dir) => {
      const set = await loadProbeSet(writeJsonlSet(dir));
      expect(set.format).toBe('jsonl');
      expect(set.root).toBe(dir);
      const [p1, r1, a1, g1] = set.examples;
      expect(p1).toEqual({
        id: 'p1',
        task: 'counting',
        split: 'perception',
        prompt: '<image>How many squares?',
        images: { target: { path: 'img/a.png', sha256: sha('image a') }, source: null },
        // a number answer is kept as its text, like the reference's counts
        answers: { target: '4', source: null },
        description: null,
        tags: [],
        meta: {},
      });
      expect(r1!.images).toEqual({ target: null, source: null });
      expect(r1!.tags).toEqual(['arith']);
      expect(a1!.task).toBe(DEFAULT_TASK);
      expect(a1!.description).toBe('A red circle on a white background.');
      expect(a1!.meta).toEqual({ source: 'demo' });
      expect(g1!.answers.target).toEqual([1, 2, 3, 4]);
      // one file referenced twice is one hash
      expect(g1!.images.target).toEqual(a1!.images.target);
    }));

  it('accepts the file path itself, and any .jsonl name', () =>
    withTempDir(async (dir) => {
      writeJsonlSet(dir);
      const viaFile = await loadProbeSet(join(dir, 'probes.jsonl'));
      const viaDir = await loadProbeSet(dir);
      expect(viaFile.fingerprint).toBe(viaDir.fingerprint);
      expect(viaFile.examples).toEqual(viaDir.examples);
    }));
});
