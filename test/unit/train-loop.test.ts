/**
 * Training data and the training loop: masks cover exactly the answer (checked
 * by decoding with the real tokenizer), padding is on the right, batches are
 * deterministic in the seed; a short phase on a tiny vision model lowers the
 * loss on a fixed set, and frozen parameters stay bitwise unchanged.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDevice, init, numpy as np, valueAndGrad } from '@jax-js/jax';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyTokenIds, tinyTokenizerFiles } from '../../src/engine/fixtures/index.js';
import { TextTokenizer } from '../../src/engine/model/tokenizer.js';
import { exportParams } from '../../src/train/checkpoint.js';
import type { TrainConfig } from '../../src/train/config.js';
import { answerText, buildSequences, byteTokenizer, DESCRIBE_PROMPT, makeBatches, toBatch, type Sequence } from '../../src/train/data.js';
import { trainPhase } from '../../src/train/loop.js';
import { adamInit, adamStep } from '../../src/train/adam.js';
import { disposeBatch, initParams, lossOf, refParams, type Batch, type Params } from '../../src/train/model.js';
import { trainingExamples, type WorldExample } from '../../src/world/index.js';

const tok = tinyTokenIds(false);
const config: TrainConfig = {
  vocabSize: tok.minVocab, hidden: 32, intermediate: 48, numLayers: 2, numHeads: 4, numKvHeads: 2, tieWordEmbeddings: true,
  eosTokenId: tok.endOfText, imageTokenId: tok.imagePad, visionStartTokenId: tok.visionStart, visionEndTokenId: tok.visionEnd,
  vision: { depth: 1, hidden: 16, intermediate: 32, numHeads: 1, patchSize: 4, imageSize: [16, 16] },
};
const opts = { tokenizer: byteTokenizer(), eosTokenId: tok.endOfText };

let dir: string;
let tokenizer: TextTokenizer;
beforeAll(async () => {
  await init('wasm');
  defaultDevice('wasm');
  dir = await mkdtemp(join(tmpdir(), 'train-loop-'));
  const files = tinyTokenizerFiles(false);
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfigJson));
  tokenizer = await TextTokenizer.load(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const examples = trainingExamples(3, 21);

/** Decoded text of the masked targets, and of the ids before the first masked target. */
function split(s: Sequence): { answer: string; prompt: number[] } {
  const first = s.mask.indexOf(1);
  return { answer: tokenizer.decode(s.targets.filter((_, t) => s.mask[t] === 1)), prompt: s.ids.slice(0, first + 1) };
}

describe('training sequences', () => {
  it('the byte encoder matches the tiny tokenizer without merges', () => {
    for (const e of examples) {
      for (const text of [e.prompt.replace('<image>', ''), answerText(e), e.description ?? '', e.solution ?? '']) {
        expect(opts.tokenizer.encode(text)).toEqual(tokenizer.encode(text));
      }
    }
  });

  it('perception masks cover exactly the short answer (or description) and end of text', () => {
    const seqs = buildSequences(examples, config, { ...opts, format: 'perception' });
    const withScene = examples.filter((e) => e.scene !== null);
    expect(seqs.length).toBe(examples.length + withScene.length);
    const byId = new Map<string, WorldExample>(examples.map((e) => [e.id, e]));
    for (const s of seqs) {
      const describe = s.id.endsWith('-describe');
      const e = byId.get(describe ? s.id.slice(0, -'-describe'.length) : s.id)!;
      const { answer, prompt } = split(s);
      expect(answer).toBe(`${describe ? e.description : answerText(e)}<|endoftext|>`);
      // the unmasked part is the prompt: text around the marker, and the visual span when there is an image
      const text = tokenizer.decode(prompt);
      const question = describe ? DESCRIBE_PROMPT : e.prompt;
      if (e.scene === null) expect(text).toBe(question);
      else expect(text).toBe(question.replace('<image>', `<|vision_start|>${'<|image_pad|>'.repeat(4)}<|vision_end|>`));
      expect(s.pixels === null).toBe(e.scene === null);
      // targets are the inputs shifted by one
      expect(s.targets.slice(0, -1)).toEqual(s.ids.slice(1));
      expect(s.mask.slice(0, s.mask.indexOf(1)).every((m) => m === 0)).toBe(true);
      expect(s.mask.slice(s.mask.indexOf(1)).every((m) => m === 1)).toBe(true);
    }
  });

  it('sft rows hold the worked solution', () => {
    const seqs = buildSequences(examples, config, { ...opts, format: 'sft' });
    const solved = examples.filter((e) => e.solution !== null);
    expect(seqs.length).toBe(solved.length);
    expect(seqs.length).toBeGreaterThan(0);
    seqs.forEach((s, i) => {
      expect(split(s).answer).toBe(`${solved[i]!.solution}<|endoftext|>`);
      expect(split(s).answer).toMatch(/^<think>.*<\/think><answer>.*<\/answer><\|endoftext\|>$/);
    });
  });

  it('pixels are the rendered scene normalised per channel (white background)', () => {
    const s = buildSequences(examples.filter((e) => e.kind === 'counting'), config, { ...opts, format: 'perception' })[0]!;
    const [mean, std] = [[0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]];
    // corner pixels of the shape canvas are white in every scene (shapes are inset in their cells)
    for (let ch = 0; ch < 3; ch++) expect(s.pixels![ch * 256]).toBeCloseTo((1 - mean[ch]!) / std[ch]!, 5);
  });

  it('batches are right-padded to the buckets, fixed in size and deterministic in the seed', () => {
    const seqs = buildSequences(examples, config, { ...opts, format: 'perception' });
    const o = { batchSize: 4, buckets: [64, 96, 128], seed: 7, padId: tok.endOfText };
    const a = makeBatches(seqs, o);
    expect(a.dropped).toBe(seqs.filter((s) => s.ids.length > 128).length);
    const byId = new Map(seqs.map((s) => [s.id, s]));
    const seen = new Set<string>();
    for (const b of a.batches) {
      expect(b.ids.length).toBe(4);
      expect(new Set(b.pixels.map((p) => p === null)).size).toBe(1);
      b.rows.forEach((id, r) => {
        seen.add(id);
        const s = byId.get(id)!;
        const n = s.ids.length;
        expect(b.ids[r]!.length).toBe(b.length);
        expect(n).toBeLessThanOrEqual(b.length);
        expect([64, 96, 128].filter((x) => x >= n)[0]).toBe(b.length);
        expect(b.ids[r]!.slice(0, n)).toEqual(s.ids);
        expect(b.mask[r]!.slice(0, n)).toEqual(s.mask);
        expect(b.ids[r]!.slice(n).every((x) => x === tok.endOfText)).toBe(true);
        expect(b.mask[r]!.slice(n).every((x) => x === 0)).toBe(true);
      });
    }
    expect(seen.size).toBe(seqs.length - a.dropped);
    const again = makeBatches(seqs, o);
    expect(again.batches.map((b) => b.rows)).toEqual(a.batches.map((b) => b.rows));
    const other = makeBatches(seqs, { ...o, seed: 8 });
    expect(other.batches.map((b) => b.rows)).not.toEqual(a.batches.map((b) => b.rows));
  });
});

describe('trainPhase', () => {
  /** A fixed set: 8 image questions with short answers (one image batch) and 8 text questions. */
  function fixedBatches(): Batch[] {
    const vision = trainingExamples(5, 8, { kinds: ['counting', 'recognition', 'ocr'] });
    const text = trainingExamples(5, 8, { kinds: ['text'] });
    const seqs = buildSequences([...vision, ...text], config, { ...opts, format: 'perception' }).filter((s) => !s.id.endsWith('-describe'));
    const { batches, dropped } = makeBatches(seqs, { batchSize: 8, buckets: [96], seed: 1, padId: tok.endOfText });
    expect(dropped).toBe(0);
    return batches.map((b) => toBatch(b, config));
  }

  it('lowers the training loss on a fixed set by at least 40%', async () => {
    const batches = fixedBatches();
    expect(batches.filter((b) => b.images !== undefined).length).toBeGreaterThan(0);
    const { params, curve, stopped } = await trainPhase({ params: initParams(config, 2), config, batches: () => batches, lr: 1e-2, maxSteps: 80 });
    expect(stopped).toBe('steps');
    expect(curve.length).toBe(80);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(curve.slice(0, 2).map((p) => p.loss));
    const last = mean(curve.slice(-4).map((p) => p.loss));
    expect(first).toBeGreaterThan(3);
    expect(last).toBeLessThan(0.6 * first);
    for (const data of (await exportParams(params)).values()) expect(data.every(Number.isFinite)).toBe(true);
    batches.forEach(disposeBatch);
  }, 60_000);

  it('leaves frozen parameters bitwise unchanged and trains the others', async () => {
    const batches = fixedBatches();
    const start = initParams(config, 3);
    const before = await exportParams(start);
    const frozen = (name: string): boolean => name.startsWith('visual.') || name.includes('layers.0.');
    const { params } = await trainPhase({ params: start, config, batches: () => batches, lr: 1e-2, maxSteps: 3, frozen });
    const after = await exportParams(params);
    expect([...after.keys()]).toEqual([...before.keys()]);
    let changed = 0;
    for (const [name, data] of after) {
      const old = before.get(name)!;
      const same = data.every((x, i) => Object.is(x, old[i]));
      if (frozen(name)) expect(same, name).toBe(true);
      else if (!same) changed++;
    }
    const trainable = [...after.keys()].filter((n) => !frozen(n));
    // every trainable tensor gets a non-zero gradient in 3 Adam steps (biases included: they shift the scores)
    expect(changed).toBe(trainable.length);
    batches.forEach(disposeBatch);
  }, 60_000);

  it('takes the same steps as valueAndGrad + adam.ts (its jitted Adam agrees, bias correction included)', async () => {
    const batches = fixedBatches();
    const lr = (step: number): number => 1e-2 / step;
    const { params } = await trainPhase({ params: initParams(config, 6), config, batches: () => batches, lr, maxSteps: 2 });
    // the same two steps by hand, unjitted, with the Adam of adam.ts (tested against its closed form there)
    let p = initParams(config, 6);
    let state = adamInit(p);
    for (let s = 0; s < 2; s++) {
      const [value, grads] = valueAndGrad(lossOf(batches[s % batches.length]!, config))(refParams(p)) as [np.Array, Params];
      value.dispose();
      ({ params: p, state } = adamStep(p, grads, state, { lr: lr(s + 1) }));
    }
    const got = await exportParams(params);
    let worst = 0;
    for (const [name, want] of await exportParams(p)) {
      const g = got.get(name)!;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(g[i]! - want[i]!));
    }
    // each step moves a coordinate by up to lr (1e-2): agreement far below that means the same updates
    expect(worst).toBeLessThan(1e-4);
    batches.forEach(disposeBatch);
  }, 60_000);

  it('stops on the wall-clock budget', async () => {
    const batches = fixedBatches().slice(0, 1);
    const { curve, stopped } = await trainPhase({ params: initParams(config, 4), config, batches: () => batches, lr: 1e-3, maxSeconds: 0.5 });
    expect(stopped).toBe('seconds');
    expect(curve.at(-1)!.seconds).toBeGreaterThanOrEqual(0.5);
    expect(curve.slice(0, -1).every((p) => p.seconds < 0.5)).toBe(true);
    batches.forEach(disposeBatch);
  }, 60_000);
});

describe('two-core data parallelism', () => {
  it('takes the Adam step of the mean gradient of its own batch and the helper batch', async () => {
    const { GradientHelper } = await import('../../src/train/gradient-helper.js');
    const text = trainingExamples(9, 12, { kinds: ['text'] });
    const seqs = buildSequences(text, config, { ...opts, format: 'perception' });
    const { batches } = makeBatches(seqs, { batchSize: 4, buckets: [32], seed: 1, padId: tok.endOfText });
    const [mine, theirs] = [batches[0]!, batches[1]!];
    const helper = await GradientHelper.start(config);
    try {
      const start = initParams(config, 21);
      const copy = (p: Params): Params => Object.fromEntries(Object.entries(p).map(([k, a]) => [k, a.ref]));
      const local = toBatch(mine, config);
      const result = await trainPhase({
        params: copy(start), config, lr: 1e-2, maxSteps: 1, batches: () => [local],
        parallel: { helper, nextBatch: () => theirs },
      });
      // independent computation: both gradients on this thread, averaged, one plain Adam step
      const other = toBatch(theirs, config);
      const [, ga] = valueAndGrad(lossOf(local, config))(refParams(start));
      const [, gb] = valueAndGrad(lossOf(other, config))(refParams(start));
      const mean: Params = Object.fromEntries(Object.keys(ga).map((k) => [k, np.multiply(np.add(ga[k]!, gb[k]!), 0.5)]));
      const expected = adamStep(copy(start), mean, adamInit(start), { lr: 1e-2 }).params;
      for (const name of Object.keys(expected)) {
        const a = await result.params[name]!.ref.data();
        const b = await expected[name]!.ref.data();
        let diff = 0;
        for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
        // Adam's first step is lr·g/(|g| + eps): elements with |g| near eps turn float rounding into a visible share of lr
        expect(diff, name).toBeLessThan(0.02 * 1e-2);
      }
      // and it differs from the step on the local batch alone
      const [, gl] = valueAndGrad(lossOf(local, config))(refParams(start));
      const alone = adamStep(copy(start), gl, adamInit(start), { lr: 1e-2 }).params;
      const name = 'model.layers.0.mlp.up_proj.weight';
      const a = await result.params[name]!.ref.data();
      const b = await alone[name]!.ref.data();
      expect(Math.max(...Array.from(a, (x: number, i: number) => Math.abs(x - b[i]!)))).toBeGreaterThan(0.5 * 1e-2);
    } finally {
      await helper.close();
    }
  });
});
