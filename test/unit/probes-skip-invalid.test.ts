/**
 * skipInvalidExamples: a set with an unusable image registers without that
 * example, says so, and hashes differently from the complete set; every
 * problem other than an unusable image still refuses the set.
 */
import { appendFile, copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProbeSet, probeSetFingerprint, ProbeSetError } from '../../src/engine/probes/index.js';
import { writeCountingPairs, writeJsonlProbes } from '../helpers/probe-fixtures.js';
import { withTempDir } from './probes-fixtures.js';

/** A truncated JPEG: the start marker and a few header bytes, then nothing. */
const TRUNCATED_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]);

const refusal = (promise: Promise<unknown>): Promise<ProbeSetError> =>
  promise.then(
    () => {
      throw new Error('expected the set to be refused');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(ProbeSetError);
      return error as ProbeSetError;
    },
  );

/** Four counting pairs; c1's target holds junk bytes, c2's source is a truncated JPEG, c3's source is missing. */
async function damagedPairs(dir: string): Promise<string> {
  await writeCountingPairs(dir, 4);
  const images = join(dir, 'counting', 'images');
  await writeFile(join(images, 'c1_t.png'), 'not an image at all');
  await writeFile(join(images, 'c2_s.png'), TRUNCATED_JPEG);
  await rm(join(images, 'c3_s.png'));
  return dir;
}

describe('skipInvalidExamples', () => {
  it('off (the default): the first unusable image refuses the set, naming its file, line and example', () =>
    withTempDir(async (dir) => {
      const root = await damagedPairs(dir);
      const error = await refusal(loadProbeSet(root, { decodeImages: true }));
      expect(error.code).toBe('BAD_IMAGE');
      expect(error.exampleId).toBe('counting_000001');
      expect(error.line).toBe(2);
      expect(error.message).toContain("'target_image' = 'counting/images/c1_t.png'");
      expect(error.message).not.toContain('not an image at all');
    }));

  it('on: the examples with an unusable image are left out and listed with their reasons', () =>
    withTempDir(async (dir) => {
      const root = await damagedPairs(dir);
      const set = await loadProbeSet(root, { decodeImages: true, skipInvalidExamples: true });
      expect(set.examples.map((e) => e.id)).toEqual(['counting_000000']);
      expect(set.skipped).toEqual([
        { id: 'counting_000001', code: 'BAD_IMAGE', reason: expect.stringContaining("'target_image' = 'counting/images/c1_t.png' is not a PNG or JPEG image that decodes") },
        { id: 'counting_000002', code: 'BAD_IMAGE', reason: expect.stringContaining("'source_image' = 'counting/images/c2_s.png'") },
        { id: 'counting_000003', code: 'MISSING_IMAGE', reason: "'source_image' = 'counting/images/c3_s.png' does not exist" },
      ]);
      // the kept example is exactly what a complete load gives for it
      expect(set.examples[0]!.images.target!.sha256).toMatch(/^[0-9a-f]{64}$/);
    }));

  it('a pair with both images unusable is left out once, with both reasons', () =>
    withTempDir(async (dir) => {
      await writeCountingPairs(dir, 2);
      const images = join(dir, 'counting', 'images');
      await writeFile(join(images, 'c1_t.png'), 'junk');
      await writeFile(join(images, 'c1_s.png'), 'junk');
      const set = await loadProbeSet(dir, { decodeImages: true, skipInvalidExamples: true });
      expect(set.skipped).toHaveLength(1);
      expect(set.skipped[0]!.reason).toMatch(/^'target_image' = 'counting\/images\/c1_t\.png' .*; 'source_image' = 'counting\/images\/c1_s\.png' /);
    }));

  it('the fingerprint counts what was left out: it differs from the complete set and from a file without those lines', () =>
    withTempDir(async (dir) => {
      await writeCountingPairs(join(dir, 'good'), 2);
      const complete = await loadProbeSet(join(dir, 'good'), { decodeImages: true, skipInvalidExamples: true });
      expect(complete.skipped).toEqual([]);
      // a complete set hashes as it did before skipping existed
      expect(complete.fingerprint).toBe(probeSetFingerprint(complete.examples));

      await writeCountingPairs(join(dir, 'bad'), 2);
      await writeFile(join(dir, 'bad', 'counting', 'images', 'c1_t.png'), 'junk');
      const partial = await loadProbeSet(join(dir, 'bad'), { decodeImages: true, skipInvalidExamples: true });
      expect(partial.examples).toEqual(complete.examples.slice(0, 1));
      expect(partial.fingerprint).not.toBe(complete.fingerprint);
      expect(partial.fingerprint).not.toBe(probeSetFingerprint(partial.examples));

      // repaired: the complete set's fingerprint again
      await copyFile(join(dir, 'good', 'counting', 'images', 'c1_t.png'), join(dir, 'bad', 'counting', 'images', 'c1_t.png'));
      expect((await loadProbeSet(join(dir, 'bad'), { decodeImages: true })).fingerprint).toBe(complete.fingerprint);
    }));

  it('a later load with the skipped list does not read those images and gives the registered fingerprint', () =>
    withTempDir(async (dir) => {
      const root = await damagedPairs(dir);
      const registered = await loadProbeSet(root, { decodeImages: true, skipInvalidExamples: true });
      await rm(join(root, 'counting', 'images', 'c1_t.png'));
      const again = await loadProbeSet(root, { skipped: registered.skipped });
      expect(again.fingerprint).toBe(registered.fingerprint);
      expect(again.skipped).toEqual(registered.skipped);
      expect(again.examples).toEqual(registered.examples);

      // a skipped line gone from the file is a different set
      const data = join(root, 'counting', 'data.jsonl');
      const lines = (await readFile(data, 'utf8')).trim().split('\n');
      await writeFile(data, lines.filter((l) => !l.includes('"counting_000003"')).join('\n') + '\n');
      const edited = await loadProbeSet(root, { skipped: registered.skipped });
      expect(edited.skipped.map((s) => s.id)).toEqual(['counting_000001', 'counting_000002']);
      expect(edited.fingerprint).not.toBe(registered.fingerprint);
    }));

  it('JSONL sets: text-only examples are kept, the one with a junk image goes', () =>
    withTempDir(async (dir) => {
      await writeJsonlProbes(dir, [
        { id: 'a', prompt: '<image>What is shown?', answer: 'squares', image: true },
        { id: 'b', prompt: 'What is 2 + 3?', answer: '5' },
        { id: 'c', prompt: '<image>Count them.', answer: '3', image: true },
      ]);
      await writeFile(join(dir, 'img', 'q2.png'), Buffer.alloc(64, 0x42));
      const set = await loadProbeSet(dir, { decodeImages: true, skipInvalidExamples: true });
      expect(set.examples.map((e) => e.id)).toEqual(['a', 'b']);
      expect(set.skipped).toEqual([{ id: 'c', code: 'BAD_IMAGE', reason: expect.stringContaining("'image' = 'img/q2.png'") }]);
    }));

  it('every other problem still refuses the whole set', () =>
    withTempDir(async (dir) => {
      const cases: [string, (root: string) => Promise<void>, string][] = [
        ['bad-json', (root) => appendFile(join(root, 'counting', 'data.jsonl'), '{oops\n'), 'BAD_JSON'],
        [
          'unknown-task',
          (root) => appendFile(join(root, 'counting', 'data.jsonl'), JSON.stringify({ id: 'z', task: 'colour', prompt: 'p', target_image: 'images/c0_t.png', source_image: 'images/c0_s.png', meta: {} }) + '\n'),
          'UNKNOWN_TASK',
        ],
        [
          'outside-root',
          (root) => appendFile(join(root, 'counting', 'data.jsonl'), JSON.stringify({ id: 'z', task: 'counting', prompt: '<image>p', target_image: '../../x.png', source_image: 'images/c0_s.png', meta: { target_answer: '1', source_answer: '2' } }) + '\n'),
          'IMAGE_OUTSIDE_ROOT',
        ],
        [
          'duplicate-id',
          async (root) => appendFile(join(root, 'counting', 'data.jsonl'), (await readFile(join(root, 'counting', 'data.jsonl'), 'utf8')).split('\n')[0] + '\n'),
          'DUPLICATE_ID',
        ],
      ];
      for (const [label, breakIt, code] of cases) {
        const root = await damagedPairs(join(dir, label));
        await breakIt(root);
        const error = await refusal(loadProbeSet(root, { decodeImages: true, skipInvalidExamples: true }));
        expect(error.code, label).toBe(code);
      }
    }));

  it('a set whose every example has an unusable image is refused as EMPTY_SET, naming the first', () =>
    withTempDir(async (dir) => {
      await writeCountingPairs(dir, 2);
      for (const f of ['c0_t.png', 'c1_s.png']) await writeFile(join(dir, 'counting', 'images', f), 'junk');
      const error = await refusal(loadProbeSet(dir, { decodeImages: true, skipInvalidExamples: true }));
      expect(error.code).toBe('EMPTY_SET');
      expect(error.message).toContain("all 2 have an image that cannot be used (first: 'counting_000000': 'target_image' = 'counting/images/c0_t.png'");
    }));
});
