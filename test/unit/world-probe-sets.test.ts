import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProbeSet, type ProbeSet } from '../../src/engine/probes/index.js';
import { answersEqual } from '../../src/engine/scoring/index.js';
import { decodePng, writeProbeSets, type WrittenProbeSets } from '../../src/world/index.js';
import { decodeShapes, decodeWord } from './world-decode.js';

const OPTIONS = { seed: 4, pairsPerTask: 8, counts: { counting: 4, ocr: 4, grounding_cell: 4, grounding_box: 4, recognition: 4, reasoning: 6, text: 5 } };

let dir: string;
let written: WrittenProbeSets;
let pairs: ProbeSet;
let probes: ProbeSet;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'world-probes-'));
  written = await writeProbeSets(dir, OPTIONS);
  pairs = await loadProbeSet(written.pairsRoot);
  probes = await loadProbeSet(written.probesRoot);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const image = async (root: string, path: string) => decodePng(await readFile(join(root, path)));

describe('writeProbeSets', () => {
  it('writes sets that load in the reference and jsonl formats', () => {
    expect(pairs.format).toBe('reference');
    expect(probes.format).toBe('jsonl');
    expect(pairs.examples).toHaveLength(32);
    expect(written.pairs).toBe(32);
    expect(probes.examples).toHaveLength(written.probes);
    expect(new Set(pairs.examples.map((e) => e.task))).toEqual(new Set(['counting', 'ocr', 'grounding', 'recognition']));
  });

  it('pairs carry the reference meta fields and different target and source answers', () => {
    const fields: Record<string, string[]> = {
      counting: ['source_answer', 'target_answer'],
      recognition: ['source_answer', 'target_answer'],
      ocr: ['source_text', 'target_text'],
      grounding: ['canvas_size', 'source_bbox_xyxy', 'source_cell', 'target_bbox_xyxy', 'target_cell'],
    };
    for (const e of pairs.examples) {
      expect(Object.keys(e.meta).sort()).toEqual(fields[e.task]);
      const [t, s] = [e.answers.target, e.answers.source!];
      if (e.task === 'grounding') {
        expect(t).not.toEqual(s);
        expect(e.meta.canvas_size).toEqual([48, 48]);
      } else {
        expect(answersEqual(t as string, s as string)).toBe(false);
      }
    }
  });

  it('pair answers are what the target and source pixels show', async () => {
    for (const e of pairs.examples) {
      for (const side of ['target', 'source'] as const) {
        const pixels = await image(written.pairsRoot, e.images[side]!.path);
        const gold = e.answers[side];
        if (e.task === 'ocr') {
          expect(decodeWord(pixels).toLowerCase()).toBe(gold);
          continue;
        }
        const shapes = decodeShapes(pixels, 3);
        if (e.task === 'counting') expect(gold).toBe(String(shapes.length));
        const m = /(red|green|blue|yellow|purple) (square|circle|triangle)/.exec(e.prompt);
        const hits = m === null ? [] : shapes.filter((s) => s.colour === m[1] && s.kind === m[2]);
        if (e.task === 'recognition') expect(gold).toBe(hits.length > 0 ? 'yes' : 'no');
        if (e.task === 'grounding') {
          expect(hits).toHaveLength(1);
          expect(gold).toEqual(hits[0]!.box);
          expect(e.meta[`${side}_cell`]).toBe(hits[0]!.cell);
        }
      }
    }
  });

  it('probes.jsonl has the four splits; alignment repeats perception with descriptions', () => {
    const bySplit = (split: string) => probes.examples.filter((e) => e.split === split);
    expect(bySplit('perception')).toHaveLength(20);
    expect(bySplit('alignment')).toHaveLength(20);
    expect(bySplit('reasoning')).toHaveLength(6);
    expect(bySplit('text')).toHaveLength(5);
    const strip = (id: string) => id.replace(/^(perception|alignment)-/, '');
    const perception = new Map(bySplit('perception').map((e) => [strip(e.id), e]));
    for (const a of bySplit('alignment')) {
      const p = perception.get(strip(a.id))!;
      expect([a.prompt, a.answers.target, a.images.target, a.description]).toEqual([p.prompt, p.answers.target, p.images.target, p.description]);
      expect(a.description).toMatch(/^A white 48x48 picture/);
    }
    for (const e of bySplit('reasoning')) {
      expect(e.images.target).not.toBeNull();
      expect(e.description).not.toBeNull();
      expect(e.meta.solution).toMatch(/<answer>/);
    }
    for (const e of bySplit('text')) expect([e.images.target, e.description, e.task]).toEqual([null, null, 'numeric']);
    const boxes = probes.examples.filter((e) => e.task === 'grounding');
    expect(boxes.length).toBe(8);
    for (const e of boxes) expect(Array.isArray(e.answers.target)).toBe(true);
  });

  it('is deterministic: the same options give the same fingerprints, another seed does not', async () => {
    const again = await mkdtemp(join(tmpdir(), 'world-probes-'));
    try {
      const w1 = await writeProbeSets(again, OPTIONS);
      expect((await loadProbeSet(w1.pairsRoot)).fingerprint).toBe(pairs.fingerprint);
      expect((await loadProbeSet(w1.probesRoot)).fingerprint).toBe(probes.fingerprint);
      await expect(writeProbeSets(again, OPTIONS)).rejects.toThrow(/overwrite/);
      const w2 = await writeProbeSets(again, { ...OPTIONS, seed: 5, overwrite: true });
      expect((await loadProbeSet(w2.pairsRoot)).fingerprint).not.toBe(pairs.fingerprint);
      expect((await loadProbeSet(w2.probesRoot)).fingerprint).not.toBe(probes.fingerprint);
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  });
});
