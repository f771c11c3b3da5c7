/**
 * Exact identities of hooked execution: no-op hooks change nothing, swaps and
 * patches with oneself change nothing, zero ablation equals deleting the
 * layer, resuming from a clean run equals recomputing, attention read-outs
 * match the reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/engine/model/config.js';
import { HOOK_POINTS, type Hook, ReadOnlyHookError } from '../../src/engine/runtime/hooks.js';
import { attentionMass, patchResidual, swapVisualKV, zeroAblation } from '../../src/engine/runtime/interventions.js';
import type { SessionPool } from '../../src/engine/runtime/ort-sessions.js';
import { HookedRunner, keepForResume } from '../../src/engine/runtime/runner.js';
import { MemoryWeights } from '../../src/engine/runtime/weights.js';
import { referenceForward } from '../reference/forward.js';
import { bitwiseEqual, imagePrompt, maxAbsDiff, testPool, textIds, tinySetup, type TinySetup } from './engine-fixtures.js';

let pool: SessionPool;
let s: TinySetup;
beforeAll(async () => {
  pool = await testPool();
  s = await tinySetup(pool, { seed: 21, numLayers: 6 });
});
afterAll(async () => {
  await pool.release();
});

const batch = () => [imagePrompt(s.model, 2, 4, 1), imagePrompt(s.model, 0, 6, 2), { inputIds: textIds(s.model, 5, 3) }];

describe('identities', () => {
  it('a hook that returns what it read changes nothing (bitwise), at every point of both stacks', async () => {
    const clean = await s.runner.forward(batch(), { positions: 'all' });
    const echo: Hook[] = HOOK_POINTS.filter((p) => p !== 'attn_pattern').flatMap((point) => [
      { point, fn: (t) => t.data.slice() },
      { point, section: 'vision' as const, fn: (t) => t.data.slice() },
    ]);
    const hooked = await s.runner.forward(batch(), { positions: 'all', hooks: echo });
    expect(bitwiseEqual(hooked.logits, clean.logits)).toBe(true);
    const gen = (hooks: Hook[]) => s.runner.generate(batch(), { maxNewTokens: 3, eosTokenIds: [], hooks });
    expect((await gen(echo)).tokens).toEqual((await gen([])).tokens);
  });

  it('a hook replacing a value does change the output (the hooks are live)', async () => {
    const clean = await s.runner.forward(batch());
    const hooked = await s.runner.forward(batch(), { hooks: [{ point: 'v', layers: 2, fn: (t) => t.data.map((x) => x * 2) }] });
    expect(maxAbsDiff(hooked.logits, clean.logits).diff).toBeGreaterThan(1e-3);
  });

  it("swapping a target's visual K/V with its own gives identical outputs", async () => {
    const clean = await s.runner.clean(batch(), { kind: 'generate', maxNewTokens: 4, eosTokenIds: [] });
    for (const L of [0, 3]) {
      const swapped = await s.runner.resume(clean, L, { hooks: swapVisualKV({ fromLayer: L, source: clean }) });
      expect(swapped.tokens).toEqual(clean.result.tokens);
    }
    const logits = await s.runner.forward(batch(), { positions: 'all' });
    const cleanLogits = await s.runner.clean(batch(), { kind: 'logits', positions: 'all' });
    const self = await s.runner.resume(cleanLogits, 1, { hooks: swapVisualKV({ fromLayer: 1, source: cleanLogits }) });
    expect(bitwiseEqual(self.logits, logits.logits)).toBe(true);
  });

  it('swapping visual K/V from another image changes the image examples only', async () => {
    const target = await s.runner.clean(batch(), { kind: 'logits' });
    const other = batch().map((x, i) => (x.pixels ? { ...x, pixels: imagePrompt(s.model, 0, 0, 100 + i).pixels } : x));
    const source = await s.runner.clean(other, { kind: 'logits' });
    const swapped = await s.runner.resume(target, 0, { hooks: swapVisualKV({ fromLayer: 0, source }) });
    const V = s.model.modelConfig.vocabSize;
    const row = (a: Float32Array, b: number) => a.subarray(b * V, (b + 1) * V);
    expect(maxAbsDiff(row(swapped.logits, 0), row(target.result.logits, 0)).diff).toBeGreaterThan(1e-4);
    expect(bitwiseEqual(row(swapped.logits, 2), row(target.result.logits, 2))).toBe(true);
  });

  it('a clean run keeping only the layers resumed from resumes to the same tokens and logits, and refuses the others', async () => {
    const ablate = (L: number) => ({ hooks: zeroAblation(L) });
    const task = { kind: 'generate' as const, maxNewTokens: 4, eosTokenIds: [] };
    const full = await s.runner.clean(batch(), task);
    const kept = await s.runner.clean(batch(), task, {}, keepForResume([1, 3]));
    expect(kept.residPre.filter((t) => t !== undefined)).toHaveLength(2);
    expect(kept.kv).toHaveLength(3);
    for (const L of [1, 3]) expect((await s.runner.resume(kept, L, ablate(L))).tokens).toEqual((await s.runner.resume(full, L, ablate(L))).tokens);
    await expect(s.runner.resume(kept, 2, ablate(2))).rejects.toThrow(/kept no state to resume from layer 2/);
    const scored = batch().map((x) => ({ ...x, answerIds: textIds(s.model, 3, 9) }));
    const fullScore = await s.runner.clean(scored, { kind: 'score' });
    const keptScore = await s.runner.clean(scored, { kind: 'score' }, {}, keepForResume([2]));
    expect((await s.runner.resume(keptScore, 2, ablate(2))).logProb).toEqual((await s.runner.resume(fullScore, 2, ablate(2))).logProb);
  });

  it('patching a model with its own residual stream changes nothing', async () => {
    const clean = await s.runner.clean(batch(), { kind: 'logits', positions: 'all' });
    const patched = await s.runner.forward(batch(), { positions: 'all', hooks: [patchResidual({ layer: 3, source: clean.residPre[3]! })] });
    expect(bitwiseEqual(patched.logits, clean.result.logits)).toBe(true);
  });

  it('zero-ablating layer i equals the model with layer i deleted (within 1e-5)', async () => {
    const c = s.model.modelConfig;
    const i = 2;
    const tensors = new Map<string, Float32Array>();
    for (const [name, data] of s.tensorMap) {
      const m = /^model\.layers\.(\d+)\.(.*)$/.exec(name);
      if (!m) tensors.set(name, data);
      else if (Number(m[1]) !== i) tensors.set(`model.layers.${Number(m[1]) > i ? Number(m[1]) - 1 : Number(m[1])}.${m[2]}`, data);
    }
    const shorter = parseModelConfig({ ...s.model.config, num_hidden_layers: c.numLayers - 1 });
    const removed = await HookedRunner.create({ weights: new MemoryWeights(shorter, tensors), pool });
    const ablated = await s.runner.forward(batch(), { positions: 'all', hooks: zeroAblation(i) });
    const expected = await removed.forward(batch(), { positions: 'all' });
    expect(maxAbsDiff(ablated.logits, expected.logits).diff).toBeLessThan(1e-5);
    const gen = await s.runner.generate(batch(), { maxNewTokens: 3, eosTokenIds: [], hooks: zeroAblation(i) });
    expect(gen.tokens).toEqual((await removed.generate(batch(), { maxNewTokens: 3, eosTokenIds: [] })).tokens);
  });

  it('resuming from the clean state at L equals recomputing from scratch, for every L', async () => {
    const gen = { kind: 'generate' as const, maxNewTokens: 3, eosTokenIds: [] };
    const clean = await s.runner.clean(batch(), gen);
    const score = await s.runner.clean(batch().map((x) => ({ ...x, answerIds: textIds(s.model, 3, 9) })), { kind: 'score' });
    for (let L = 0; L < s.model.modelConfig.numLayers; L++) {
      const resumed = await s.runner.resume(clean, L, { hooks: zeroAblation(L) });
      const scratch = await s.runner.run(batch(), gen, { hooks: zeroAblation(L) });
      expect(resumed.tokens).toEqual(scratch.tokens);
      const rs = await s.runner.resume(score, L, { hooks: zeroAblation(L) });
      const ss = await s.runner.score(score.inputs.map((x) => ({ ...x, answerIds: textIds(s.model, 3, 9) })), { hooks: zeroAblation(L) });
      expect(rs.logProb).toEqual(ss.logProb);
    }
  });
});

describe('read-outs', () => {
  it('attention mass from text to visual positions matches the reference patterns', async () => {
    const inputs = [imagePrompt(s.model, 2, 4, 1)];
    const layout = { vis: inputs[0]!.inputIds.flatMap((id, t) => (id === s.model.modelConfig.imageTokenId ? [t] : [])) };
    const after = Array.from({ length: 4 }, (_, k) => inputs[0]!.inputIds.length - 1 - k);
    const probe = attentionMass({ numLayers: s.model.modelConfig.numLayers, queries: [after], keys: [layout.vis] });
    await s.runner.forward(inputs, { hooks: probe.hooks });
    const ref = referenceForward(s.tensorMap, s.model.modelConfig, { ids: [[...inputs[0]!.inputIds]], pixels: [inputs[0]!.pixels!] }, { collectAttention: true });
    const T = inputs[0]!.inputIds.length;
    const nh = s.model.modelConfig.numHeads;
    for (let l = 0; l < s.model.modelConfig.numLayers; l++) {
      let sum = 0;
      for (let h = 0; h < nh; h++) for (const q of after) for (const k of layout.vis) sum += ref.hidden[0]!.attention![l]![h]![q * T + k]!;
      expect(probe.mass[l]![0]).toBeCloseTo(sum / (nh * after.length), 5);
    }
  });

  it('attn_pattern is read-only', async () => {
    await expect(s.runner.forward(batch(), { hooks: [{ point: 'attn_pattern', fn: (t) => t.data }] })).rejects.toBeInstanceOf(ReadOnlyHookError);
  });

  it('a replacement of the wrong size is refused, naming the point', async () => {
    await expect(s.runner.forward(batch(), { hooks: [{ point: 'mlp_out', layers: 1, fn: () => new Float32Array(3) }] })).rejects.toThrow(/'mlp_out'/);
  });
});
