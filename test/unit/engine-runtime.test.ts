/**
 * Runtime plumbing: sessions are created once per piece shape and reused,
 * memory stays flat over many runs, teacher-forced scoring against the
 * reference, checkpoint-backed weights, and the model worker's job protocol.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../src/engine/fixtures/tiny-model.js';
import { ModelJobError, ModelWorker } from '../../src/engine/runtime/model-worker.js';
import type { SessionPool } from '../../src/engine/runtime/ort-sessions.js';
import { HookedRunner } from '../../src/engine/runtime/runner.js';
import { CheckpointWeights } from '../../src/engine/runtime/weights.js';
import { referenceForward } from '../reference/forward.js';
import { imagePrompt, maxAbsDiff, testPool, textIds, tinySetup } from './engine-fixtures.js';

let pool: SessionPool;
let dir: string;
beforeAll(async () => {
  pool = await testPool();
  dir = await mkdtemp(join(tmpdir(), 'frankenscope-engine-'));
});
afterAll(async () => {
  await pool.release();
  await rm(dir, { recursive: true, force: true });
});

describe('sessions', () => {
  it('are created once per piece shape and reused over 100 runs and two models', async () => {
    const a = await tinySetup(pool, { seed: 31, numLayers: 3 });
    const b = await tinySetup(pool, { seed: 32, numLayers: 3 }); // same shapes, other weights
    // text LM pieces (3) + head + vision pieces (3); patch embed and merger come with the first image
    expect(pool.createdCount).toBe(7);
    const before = process.memoryUsage();
    for (let i = 0; i < 50; i++) {
      await a.runner.forward([imagePrompt(a.model, 1, 2 + (i % 5), i)]);
      await b.runner.generate([{ inputIds: textIds(b.model, 3 + (i % 7), i) }], { maxNewTokens: 2, eosTokenIds: [] });
    }
    expect(pool.createdCount).toBe(9);
    expect(pool.liveCount).toBe(9);
    const after = process.memoryUsage();
    // generous bound: a leak of one activation set per run would exceed it by far only on big models,
    // so this guards against leaking sessions or weights (tens of MB each), not bytes
    expect(after.heapUsed + after.external - (before.heapUsed + before.external)).toBeLessThan(200 * 2 ** 20);
  });
});

describe('teacher-forced scoring', () => {
  it('sums answer log-probs like the reference and reports exact match', async () => {
    const s = await tinySetup(pool, { seed: 33 });
    const c = s.model.modelConfig;
    const prompts = [imagePrompt(s.model, 1, 3, 5), { inputIds: textIds(s.model, 6, 6) }];
    // gold = the reference's greedy continuation for example 0 (exact match), an arbitrary answer for example 1
    const greedy: number[] = [];
    let seq = [...prompts[0]!.inputIds];
    for (let k = 0; k < 3; k++) {
      const r = referenceForward(s.tensorMap, c, { ids: [seq], pixels: [prompts[0]!.pixels!] }).logits[0]!;
      const row = r.subarray((seq.length - 1) * c.vocabSize, seq.length * c.vocabSize);
      const next = row.indexOf(Math.max(...row));
      greedy.push(next);
      seq = [...seq, next];
    }
    const answers = [greedy, textIds(s.model, 4, 7)];
    const res = await s.runner.score(prompts.map((p, b) => ({ ...p, answerIds: answers[b]! })));
    expect(res.exactMatch).toEqual([true, false]);
    for (let b = 0; b < 2; b++) {
      const ids = [...prompts[b]!.inputIds, ...answers[b]!];
      const logits = referenceForward(s.tensorMap, c, { ids: [ids], pixels: [prompts[b]!.pixels ?? null] }).logits[0]!;
      let expected = 0;
      const n = prompts[b]!.inputIds.length;
      answers[b]!.forEach((gold, j) => {
        const row = logits.subarray((n - 1 + j) * c.vocabSize, (n + j) * c.vocabSize);
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((acc, x) => acc + Math.exp(x - max), 0));
        expected += row[gold]! - lse;
      });
      expect(Math.abs(res.logProb[b]! - expected)).toBeLessThan(1e-4);
    }
  });
});

describe('checkpoint weights', () => {
  it('a runner over a checkpoint directory equals one over the same tensors in memory', async () => {
    const model = await writeTinyModel(join(dir, 'ckpt'), { seed: 34, textOnly: true, numLayers: 2 });
    const weights = await CheckpointWeights.open(join(dir, 'ckpt'));
    const fromDisk = await HookedRunner.create({ weights, pool });
    const inMemory = await tinySetup(pool, { seed: 34, textOnly: true, numLayers: 2 });
    const input = [{ inputIds: textIds(model, 6, 1) }];
    expect(maxAbsDiff((await fromDisk.forward(input)).logits, (await inMemory.runner.forward(input)).logits).diff).toBe(0);
    await weights.close();
  });

  it('refuses a wrong-sized tensor, naming it', async () => {
    const s = await tinySetup(pool, { seed: 35, textOnly: true, numLayers: 1 });
    s.tensorMap.set('model.layers.0.mlp.up_proj.weight', new Float32Array(5));
    await expect(s.runner.forward([{ inputIds: [1, 2] }])).rejects.toThrow(/model\.layers\.0\.mlp\.up_proj\.weight/);
  });
});

describe('model worker', () => {
  it('runs an analysis module by URL with progress, reusing sessions across jobs', async () => {
    const model = await writeTinyModel(join(dir, 'w'), { seed: 36, textOnly: true, numLayers: 2 });
    const worker = await ModelWorker.create({ threads: 2 });
    try {
      const mod = new URL('./engine-worker-analysis.ts', import.meta.url);
      const prompts = [textIds(model, 4, 1), textIds(model, 6, 2)];
      const progress: unknown[] = [];
      const r1 = await worker.run<{ logits: Float32Array[]; sessionsCreated: number }>(mod, 'lastLogits', { dir: join(dir, 'w'), prompts }, { onProgress: (p) => progress.push(p) });
      expect(progress).toEqual([{ done: 1, total: 2 }, { done: 2, total: 2 }]);
      const local = await HookedRunner.create({ weights: await CheckpointWeights.open(join(dir, 'w')), pool });
      for (let i = 0; i < 2; i++) {
        expect(maxAbsDiff(r1.logits[i]!, (await local.forward([{ inputIds: prompts[i]! }])).logits).diff).toBeLessThan(1e-6);
      }
      const r2 = await worker.run<{ sessionsCreated: number }>(mod, 'lastLogits', { dir: join(dir, 'w'), prompts });
      expect(r2.sessionsCreated).toBe(r1.sessionsCreated);
      await expect(worker.run(mod, 'fail', null)).rejects.toMatchObject({ name: 'RangeError', code: 'BAD_X' });
      await expect(worker.run(mod, 'nope', null)).rejects.toBeInstanceOf(ModelJobError);
      const ac = new AbortController();
      const spinning = worker.run(mod, 'spin', null, { signal: ac.signal, onProgress: () => ac.abort() });
      await expect(spinning).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await worker.release();
    }
  });
});
