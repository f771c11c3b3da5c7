/**
 * Training works end to end: Adam steps on a tiny batch lower the loss, the
 * first step matches Adam's closed form (|Δw| = lr per coordinate with a
 * non-negligible gradient), and the trained model still exports cleanly.
 */
import { defaultDevice, init, numpy as np, valueAndGrad } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamInit, adamStep } from '../../src/train/adam.js';
import { exportParams } from '../../src/train/checkpoint.js';
import type { TrainConfig } from '../../src/train/config.js';
import { initParams, lossOf, makeBatch, refParams, type Params } from '../../src/train/model.js';

beforeAll(async () => {
  await init('wasm');
  defaultDevice('wasm');
});

const config: TrainConfig = { vocabSize: 260, hidden: 32, intermediate: 48, numLayers: 2, numHeads: 4, numKvHeads: 2, tieWordEmbeddings: true };

describe('Adam on the jax-js model', () => {
  it('lowers the loss on a fixed batch, with a closed-form first step', async () => {
    // a repeating pattern the model can memorise: next token of "abcdefgh..."
    const ids = [[97, 98, 99, 100, 101, 102, 103, 104], [105, 106, 107, 108, 109, 110, 111, 112]];
    const targets = ids.map((r) => r.map((x) => x + 1));
    const batch = makeBatch(ids, targets, ids.map((r) => r.map(() => 1)), config);
    const vg = valueAndGrad(lossOf(batch, config));
    let params = initParams(config, 5);
    let state = adamInit(params);
    const lr = 1e-2;
    const losses: number[] = [];
    for (let s = 0; s < 8; s++) {
      const [value, grads] = vg(refParams(params)) as [np.Array, Params];
      losses.push((await value.data())[0]!);
      const before = s === 0 ? await exportParams(params) : null;
      const gq = s === 0 ? await grads['model.layers.0.self_attn.q_proj.weight']!.ref.data() : null;
      ({ params, state } = adamStep(params, grads, state, { lr }));
      if (before && gq) {
        // step 1: m̂ = g, v̂ = g², so Δw = −lr·g/(|g| + eps) ≈ −lr·sign(g)
        const after = await params['model.layers.0.self_attn.q_proj.weight']!.ref.data();
        const w0 = before.get('model.layers.0.self_attn.q_proj.weight')!;
        for (let i = 0; i < after.length; i++) {
          if (Math.abs(gq[i]!) < 1e-5) continue;
          expect(after[i]! - w0[i]!).toBeCloseTo(-lr * Math.sign(gq[i]!), 5);
        }
      }
    }
    expect(losses[0]).toBeGreaterThan(4);
    for (let s = 1; s < losses.length; s++) expect(losses[s]).toBeLessThan(losses[s - 1]!);
    expect(losses.at(-1)!).toBeLessThan(0.7 * losses[0]!);
    const exported = await exportParams(params);
    expect(exported.has('lm_head.weight')).toBe(false);
    for (const data of exported.values()) expect(data.every(Number.isFinite)).toBe(true);
  });
});
