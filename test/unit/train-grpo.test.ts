/**
 * GRPO: group-normalised advantages against hand-computed values; the
 * policy-gradient rows put advantage / N exactly on the completion targets;
 * with advantage-free weights equal to mask / Σmask the policy objective is
 * the supervised cross-entropy (value and gradient); the KL term is 0 with a
 * zero gradient when the reference is the policy itself; and a few GRPO
 * iterations with a planted reward raise the exact probability (from the
 * engine's logits) of the rewarded tokens, leaving frozen tensors bitwise unchanged.
 */
import { defaultDevice, init, numpy as np, valueAndGrad } from '@jax-js/jax';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyTokenIds } from '../../src/engine/fixtures/index.js';
import { HookedRunner, MemoryWeights, SessionPool } from '../../src/engine/runtime/index.js';
import { exportParams } from '../../src/train/checkpoint.js';
import type { TrainConfig } from '../../src/train/config.js';
import { modelConfigOf } from '../../src/train/data.js';
import { gradientRowsOf, groupAdvantages, grpo, policyRows, type Rollout } from '../../src/train/grpo.js';
import { forward, initParams, loss, makeBatch, policyLoss, refParams, type Params } from '../../src/train/model.js';
import type { EnginePrompt } from '../../src/train/prompts.js';

const tok = tinyTokenIds(false);
const config: TrainConfig = {
  vocabSize: tok.minVocab, hidden: 32, intermediate: 48, numLayers: 3, numHeads: 4, numKvHeads: 2, tieWordEmbeddings: true,
  eosTokenId: tok.endOfText,
};

let pool: SessionPool;
beforeAll(async () => {
  await init('wasm');
  defaultDevice('wasm');
  pool = await SessionPool.create({ threads: 1 });
});
afterAll(async () => {
  await pool.release();
});

const prompt = (id: string, inputIds: number[]): EnginePrompt => ({ id, kind: 'text', inputIds, task: 'free', answer: 'x' });

describe('groupAdvantages', () => {
  it('normalises within each group by its population std', () => {
    // group [1,0,0,0]: mean 1/4, std sqrt(3)/4
    const a = groupAdvantages([1, 0, 0, 0, 0, 1, 1, 0], 4, 0);
    const s = Math.sqrt(3) / 4;
    [0.75 / s, -0.25 / s, -0.25 / s, -0.25 / s].forEach((v, i) => expect(a[i]).toBeCloseTo(v, 12));
    [-1, 1, 1, -1].forEach((v, i) => expect(a[4 + i]).toBeCloseTo(v, 12));
  });

  it('gives 0 to a group with no reward spread, and rejects ragged groups', () => {
    expect(groupAdvantages([1, 1, 1, 0, 0, 0], 3)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => groupAdvantages([1, 0, 1], 2)).toThrow(/groups of 2/);
    expect(() => groupAdvantages([1, 0], 1)).toThrow(/'groupSize'/);
  });
});

describe('policyRows', () => {
  it('weights exactly the completion targets by advantage / N', () => {
    const rollouts: Rollout[] = [
      { prompt: prompt('a', [1, 2, 3]), completion: [4, 5], text: '', reward: 1, advantage: 2 },
      { prompt: prompt('b', [6]), completion: [7, 8, 9], text: '', reward: 0, advantage: -1 },
    ];
    const rows = policyRows(rollouts, 6, 0, [[-0.5, -0.25], [-1, -2, -3]]);
    expect(rows.ids).toEqual([[1, 2, 3, 4, 0, 0], [6, 7, 8, 0, 0, 0]]);
    expect(rows.targets).toEqual([[2, 3, 4, 5, 0, 0], [7, 8, 9, 0, 0, 0]]);
    // N = 5 completion tokens; row a's completion targets are positions 2 and 3
    expect(rows.weights).toEqual([[0, 0, 2 / 5, 2 / 5, 0, 0], [-1 / 5, -1 / 5, -1 / 5, 0, 0, 0]]);
    expect(rows.klWeights).toEqual([[0, 0, 1 / 5, 1 / 5, 0, 0], [1 / 5, 1 / 5, 1 / 5, 0, 0, 0]]);
    expect(rows.refLogProbs).toEqual([[0, 0, -0.5, -0.25, 0, 0], [-1, -2, -3, 0, 0, 0]]);
    expect(() => policyRows(rollouts, 3, 0)).toThrow(/more than the padded length 3/);
  });

  it('keeps the whole batch\'s normaliser for the policy term of a subset, and the subset\'s own for the KL term', () => {
    const kept: Rollout = { prompt: prompt('a', [1, 2, 3]), completion: [4, 5], text: '', reward: 1, advantage: 2 };
    // the subset of a batch of 5 completion tokens: advantage / 5 as in the full batch, KL 1 / 2
    const rows = policyRows([kept], 4, 0, undefined, 5);
    expect(rows.weights).toEqual([[0, 0, 2 / 5, 2 / 5]]);
    expect(rows.klWeights).toEqual([[0, 0, 1 / 2, 1 / 2]]);
    expect(() => policyRows([kept], 4, 0, undefined, 1)).toThrow(/fewer than the rows' 2 completion tokens/);
  });
});

describe('gradientRowsOf', () => {
  // four groups of two: the second and fourth have reward spread
  const advantages = [0, 0, 1, -1, 0, 0, 0.5, -0.5];

  it('takes the informative groups, filling up to a multiple with the others in order', () => {
    expect(gradientRowsOf(advantages, 2, 1)).toEqual([2, 3, 6, 7]);
    expect(gradientRowsOf(advantages, 2, 4)).toEqual([2, 3, 6, 7]);
    expect(gradientRowsOf(advantages, 2, 6)).toEqual([0, 1, 2, 3, 6, 7]);
    expect(gradientRowsOf(advantages, 2, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gradientRowsOf([0, 0, 1, -1, 0, 0], 2, 4)).toEqual([0, 1, 2, 3]);
  });

  it('falls back to every row when no selection divides by the multiple', () => {
    expect(gradientRowsOf([0, 0, 1, -1, 0, 0], 2, 5)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('policyLoss', () => {
  const ids = [[5, 9, 13, 2, 7], [3, 3, 8, 1, 4]];
  const targets = [[9, 13, 2, 7, 11], [3, 8, 1, 4, 6]];
  const mask = [[0, 0, 1, 1, 1], [0, 1, 1, 0, 0]];

  function arrays(weights: number[][], klWeights: number[][], refLogProbs: number[][]) {
    return {
      ids: np.array(ids, { dtype: np.int32 }), targets: np.array(targets, { dtype: np.int32 }),
      weights: np.array(weights), klWeights: np.array(klWeights), refLogProbs: np.array(refLogProbs),
    };
  }

  it('equals the supervised cross-entropy when the weights are mask / Σmask (value and gradient)', async () => {
    const p = initParams(config, 3);
    const total = mask.flat().reduce((a, b) => a + b, 0);
    const w = mask.map((r) => r.map((m) => m / total));
    const zeros = mask.map((r) => r.map(() => 0));
    const [v1, g1] = valueAndGrad((q: Params) => policyLoss(q, arrays(w, zeros, zeros), config, 0))(refParams(p));
    const batch = makeBatch(ids, targets, mask, config);
    const [v2, g2] = valueAndGrad((q: Params) => loss(q, batch, config))(refParams(p));
    expect((await v1.data())[0]).toBeCloseTo((await v2.data())[0]!, 5);
    for (const name of ['model.embed_tokens.weight', 'model.layers.1.mlp.up_proj.weight']) {
      const a = await g1[name]!.data();
      const b = await g2[name]!.data();
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < a.length; i++) [diff, scale] = [Math.max(diff, Math.abs(a[i]! - b[i]!)), Math.max(scale, Math.abs(b[i]!))];
      expect(diff).toBeLessThan(1e-5 * Math.max(1, scale));
      expect(scale).toBeGreaterThan(0);
    }
  });

  it('has a KL term of 0 with zero gradient when the reference is the policy', async () => {
    const p = initParams(config, 4);
    const logits = await forward(refParams(p), ids, config).data();
    const V = config.vocabSize;
    const ref = ids.map((row, b) =>
      row.map((_, t) => {
        const o = (b * ids[0]!.length + t) * V;
        const max = Math.max(...logits.slice(o, o + V));
        let sum = 0;
        for (let j = 0; j < V; j++) sum += Math.exp(logits[o + j]! - max);
        return mask[b]![t] ? logits[o + targets[b]![t]!]! - max - Math.log(sum) : 0;
      }),
    );
    const zeros = mask.map((r) => r.map(() => 0));
    const k = mask.map((r) => r.map((m) => m / 5));
    const [value, grads] = valueAndGrad((q: Params) => policyLoss(q, arrays(zeros, k, ref), config, 1))(refParams(p));
    expect(Math.abs((await value.data())[0]!)).toBeLessThan(1e-6);
    const g = await grads['model.layers.0.self_attn.q_proj.weight']!.data();
    expect(Math.max(...g.map(Math.abs))).toBeLessThan(1e-5);
    // a reference shifted away from the policy gives a positive penalty
    const shifted = ref.map((r, b) => r.map((x, t) => (mask[b]![t] ? x - 0.5 : 0)));
    const [pen] = valueAndGrad((q: Params) => policyLoss(q, arrays(zeros, k, shifted), config, 1))(refParams(p));
    // k3 of r − l = −0.5 is e^{−0.5} + 0.5 − 1 per token, weights summing to 1
    expect((await pen.data())[0]).toBeCloseTo(Math.exp(-0.5) - 0.5, 5);
  });
});

describe('grpo', () => {
  it('raises the probability of rewarded tokens and leaves frozen tensors unchanged', async () => {
    const prompts = [prompt('p0', [72, 105, 33]), prompt('p1', [65, 66]), prompt('p2', [120, 121, 122, 32])];
    // planted reward: the first generated token is an even byte
    const even = (_: EnginePrompt, __: string, ids: readonly number[]) => (ids.length > 0 && ids[0]! < 256 && ids[0]! % 2 === 0 ? 1 : 0);
    const probabilityEven = async (p: Params): Promise<number> => {
      const runner = await HookedRunner.create({ weights: new MemoryWeights(modelConfigOf(config), await exportParams(p)), pool });
      const { logits } = await runner.forward(prompts.map((x) => ({ inputIds: x.inputIds })));
      const V = config.vocabSize;
      let total = 0;
      for (let b = 0; b < prompts.length; b++) {
        const row = [...logits.slice(b * V, (b + 1) * V)];
        const max = Math.max(...row);
        const e = row.map((x) => Math.exp(x - max));
        const sum = e.reduce((a, c) => a + c, 0);
        total += e.reduce((a, c, j) => a + (j < 256 && j % 2 === 0 ? c : 0), 0) / sum;
      }
      return total / prompts.length;
    };
    const start = initParams(config, 5);
    const before = await probabilityEven(start);
    const frozenName = 'model.layers.1.mlp.down_proj.weight';
    const frozenBefore = await start[frozenName]!.ref.data();
    const result = await grpo({
      params: start, config, prompts: () => prompts, groupSize: 8, temperature: 1, maxNewTokens: 1, lr: 1e-2,
      buckets: [8], maxIterations: 20, seed: 1, eosTokenId: tok.endOfText, decode: () => '', reward: even, pool,
      frozen: (name) => name === frozenName,
    });
    const after = await probabilityEven(result.params);
    expect(after).toBeGreaterThan(before + 0.15);
    expect(result.curve).toHaveLength(20);
    expect(result.curve.some((p) => p.informativeGroups > 0)).toBe(true);
    expect(Buffer.from((await result.params[frozenName]!.ref.data()).buffer).equals(Buffer.from(frozenBefore.buffer))).toBe(true);
  });

  it('repeats exactly from the same seed (rollouts, rewards and weights)', async () => {
    const prompts = [prompt('p0', [72, 105, 33]), prompt('p1', [65, 66])];
    const reward = (_: EnginePrompt, __: string, ids: readonly number[]) => (ids[0]! % 3 === 0 ? 1 : 0);
    const run = async () => {
      const out = await grpo({
        params: initParams(config, 8), config, prompts: () => prompts, groupSize: 4, maxNewTokens: 3, lr: 1e-2,
        buckets: [8], maxIterations: 3, seed: 5, eosTokenId: tok.endOfText, decode: () => '', reward, pool,
      });
      return { rewards: out.curve.map((p) => p.reward), weights: await exportParams(out.params) };
    };
    const a = await run();
    const b = await run();
    expect(b.rewards).toEqual(a.rewards);
    for (const [name, data] of a.weights) expect(Buffer.from(b.weights.get(name)!.buffer).equals(Buffer.from(data.buffer)), name).toBe(true);
  });

  it('gives the same objective in micro-batches as in one batch', async () => {
    const prompts = [prompt('p0', [72, 105, 33]), prompt('p1', [65, 66])];
    const reward = (_: EnginePrompt, __: string, ids: readonly number[]) => (ids[0]! % 3 === 0 ? 1 : 0);
    const run = (microBatch?: number) =>
      grpo({
        params: initParams(config, 8), config, prompts: () => prompts, groupSize: 4, maxNewTokens: 3, lr: 1e-2,
        buckets: [8], maxIterations: 1, seed: 5, eosTokenId: tok.endOfText, decode: () => '', reward, pool, microBatch,
      });
    const whole = await run();
    const split = await run(2);
    expect(split.curve[0]!.reward).toBe(whole.curve[0]!.reward);
    expect(whole.curve[0]!.loss).not.toBe(0);
    expect(split.curve[0]!.loss).toBeCloseTo(whole.curve[0]!.loss, 6);
  });

  it('takes the same step from the informative groups alone when there is no KL term', async () => {
    const prompts = [prompt('p0', [72, 105, 33]), prompt('p1', [65, 66]), prompt('p2', [120, 121])];
    // only p0's group can have reward spread; p1's and p2's rewards are all 0
    const reward = (p: EnginePrompt, _: string, ids: readonly number[]) => (p.id === 'p0' && ids[0]! % 2 === 0 ? 1 : 0);
    const run = (informativeOnly: boolean) =>
      grpo({
        params: initParams(config, 8), config, prompts: () => prompts, groupSize: 4, maxNewTokens: 3, lr: 1e-2, microBatch: 4,
        buckets: [8], maxIterations: 1, seed: 3, eosTokenId: tok.endOfText, decode: () => '', reward, pool, informativeOnly,
      });
    const start = await exportParams(initParams(config, 8));
    const full = await run(false);
    const some = await run(true);
    expect(full.curve[0]!.informativeGroups).toBeCloseTo(1 / 3, 12);
    expect(full.curve[0]!.gradientRows).toBe(12);
    expect(some.curve[0]!.gradientRows).toBe(4);
    expect(some.curve[0]!.loss).toBeCloseTo(full.curve[0]!.loss, 6);
    const a = await exportParams(full.params);
    const b = await exportParams(some.params);
    let moved = 0;
    for (const [name, x] of a) {
      const y = b.get(name)!;
      for (let i = 0; i < x.length; i++) {
        expect(Math.abs(y[i]! - x[i]!), name).toBeLessThan(1e-6);
        moved = Math.max(moved, Math.abs(x[i]! - start.get(name)![i]!));
      }
    }
    // the step did move the weights (Adam's first step is about lr per parameter)
    expect(moved).toBeGreaterThan(1e-3);
  });

  it('refuses a KL penalty without a reference and a non-positive temperature', async () => {
    const base = { config, prompts: () => [prompt('p', [1, 2])], groupSize: 2, maxNewTokens: 1, lr: 1e-3, buckets: [4], maxIterations: 1, seed: 0, eosTokenId: tok.endOfText, decode: () => '', pool };
    await expect(grpo({ ...base, params: initParams(config, 1), beta: 0.1 })).rejects.toThrow(/'reference'/);
    await expect(grpo({ ...base, params: initParams(config, 1), temperature: 0 })).rejects.toThrow(/'temperature'/);
  });
});
