/**
 * The ONNX engine against the float64 reference forward pass of docs/model.md:
 * logits within 1e-4, batched with left padding, with and without images,
 * text-only and tied-embedding models, and the KV cache against full passes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInput } from '../../src/engine/runtime/batch.js';
import type { SessionPool } from '../../src/engine/runtime/ort-sessions.js';
import { referenceForward, referenceGreedy } from '../reference/forward.js';
import { imagePrompt, maxAbsDiff, testPool, textIds, tinySetup, type TinySetup } from './engine-fixtures.js';

const TOL = 1e-4;
let pool: SessionPool;
beforeAll(async () => {
  pool = await testPool();
});
afterAll(async () => {
  await pool.release();
});

/** Checks every real position of every example against the reference (run one example at a time, no padding). */
async function expectAgreement(s: TinySetup, inputs: ModelInput[]): Promise<void> {
  const out = await s.runner.forward(inputs, { positions: 'all' });
  const [B, T, V] = out.dims as [number, number, number];
  expect(B).toBe(inputs.length);
  for (let b = 0; b < B; b++) {
    const ids = [...inputs[b]!.inputIds];
    const ref = referenceForward(s.tensorMap, s.model.modelConfig, { ids: [ids], pixels: [inputs[b]!.pixels ?? null] });
    const pad = T - ids.length;
    const { diff, scale } = maxAbsDiff(out.logits.subarray((b * T + pad) * V, (b + 1) * T * V), ref.logits[0]!);
    expect(diff).toBeLessThan(TOL);
    // logits of the fixtures are O(1..10): a diff this small is not "everything is zero"
    expect(scale).toBeGreaterThan(1);
  }
}

describe('engine agrees with the float64 reference', () => {
  it('vision-language, batch of 3 with left padding, images on two of them', async () => {
    const s = await tinySetup(pool, { seed: 3 });
    await expectAgreement(s, [imagePrompt(s.model, 2, 5, 10), { inputIds: textIds(s.model, 4, 20) }, imagePrompt(s.model, 0, 2, 30)]);
  });

  it('vision-language, batch of 1', async () => {
    const s = await tinySetup(pool, { seed: 4 });
    await expectAgreement(s, [imagePrompt(s.model, 3, 3, 40)]);
  });

  it("text-only 'qwen2', batch of 2 with left padding", async () => {
    const s = await tinySetup(pool, { seed: 5, textOnly: true });
    await expectAgreement(s, [{ inputIds: textIds(s.model, 11, 50) }, { inputIds: textIds(s.model, 3, 60) }]);
  });

  it('tied embeddings (no lm_head.weight)', async () => {
    const s = await tinySetup(pool, { seed: 6, textOnly: true, tieWordEmbeddings: true, numKvHeads: 4 });
    expect(s.tensorMap.has('lm_head.weight')).toBe(false);
    await expectAgreement(s, [{ inputIds: textIds(s.model, 7, 70) }, { inputIds: textIds(s.model, 9, 80) }]);
  });

  it('the padded batch equals each example run alone', async () => {
    const s = await tinySetup(pool, { seed: 7 });
    const inputs = [imagePrompt(s.model, 1, 2, 90), { inputIds: textIds(s.model, 12, 91) }];
    const together = await s.runner.forward(inputs);
    const V = s.model.modelConfig.vocabSize;
    for (let b = 0; b < 2; b++) {
      const alone = await s.runner.forward([inputs[b]!]);
      expect(maxAbsDiff(together.logits.subarray(b * V, (b + 1) * V), alone.logits).diff).toBeLessThan(1e-5);
    }
  });
});

describe('KV cache', () => {
  it('decode steps equal full passes over the extended sequence (batch of 2, padded, with an image)', async () => {
    const s = await tinySetup(pool, { seed: 8 });
    const c = s.model.modelConfig;
    const inputs = [imagePrompt(s.model, 2, 3, 100), { inputIds: textIds(s.model, 4, 101) }];
    const N = c.numLayers;
    // capture the last layer's resid_post at each decode step (row = the new token)
    const captured: Float32Array[][] = [[], []];
    const steps = 4;
    const gen = await s.runner.generate(inputs, {
      maxNewTokens: steps,
      eosTokenIds: [],
      hooks: [{ point: 'resid_post', layers: N - 1, phase: 'decode', fn: (t) => {
        const H = c.hiddenSize;
        for (let b = 0; b < 2; b++) captured[b]!.push(t.data.slice(b * H, (b + 1) * H));
      } }],
    });
    for (let b = 0; b < 2; b++) {
      expect(gen.tokens[b]).toHaveLength(steps);
      const ids = [...inputs[b]!.inputIds, ...gen.tokens[b]!.slice(0, steps - 1)];
      const ref = referenceForward(s.tensorMap, c, { ids: [ids], pixels: [inputs[b]!.pixels ?? null] });
      const n = inputs[b]!.inputIds.length;
      for (let k = 0; k < steps - 1; k++) {
        const H = c.hiddenSize;
        const row = ref.hidden[0]!.residPost[N - 1]!.subarray((n + k) * H, (n + k + 1) * H);
        const { diff, scale } = maxAbsDiff(captured[b]![k]!, row);
        expect(diff).toBeLessThan(TOL * Math.max(1, scale));
      }
      // the reference's greedy tokens (full recomputation each step, no cache)
      expect(gen.tokens[b]).toEqual(referenceGreedy(s.tensorMap, c, [...inputs[b]!.inputIds], inputs[b]!.pixels ?? null, steps));
    }
  });

  it('stops at an eos id and reports why', async () => {
    const s = await tinySetup(pool, { seed: 9, textOnly: true });
    const input = { inputIds: textIds(s.model, 5, 110) };
    const free = await s.runner.generate([input], { maxNewTokens: 3, eosTokenIds: [] });
    expect(free.finish).toEqual(['length']);
    const stopAt = free.tokens[0]![1]!;
    const stopped = await s.runner.generate([input], { maxNewTokens: 3, eosTokenIds: [stopAt] });
    const first = free.tokens[0]!.indexOf(stopAt);
    expect(stopped.tokens[0]).toEqual(free.tokens[0]!.slice(0, first));
    expect(stopped.finish).toEqual(['eos']);
  });
});
