/**
 * Gradients of the jax-js training loss against central finite differences
 * of the same loss, for the embedding, a q_proj weight and bias, an MLP weight
 * and a norm weight; and the loss itself against a direct log-softmax of the
 * forward logits.
 */
import { defaultDevice, init, numpy as np, valueAndGrad } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../src/train/config.js';
import { tinyTokenIds } from '../../src/engine/fixtures/index.js';
import { forward, initParams, loss, lossOf, makeBatch, refBatch, refParams, type Batch, type Params } from '../../src/train/model.js';
import { seeded } from './engine-fixtures.js';

beforeAll(async () => {
  await init('wasm');
  defaultDevice('wasm');
});

const config: TrainConfig = { vocabSize: 260, hidden: 16, intermediate: 24, numLayers: 2, numHeads: 4, numKvHeads: 2 };
const B = 2;
const T = 6;

/** Parameters with random biases and norms (not 0 and 1) so their gradients are generic. */
function setup(seed: number): { params: Params; ids: number[][]; targets: number[][]; mask: number[][]; batch: Batch } {
  const params = initParams(config, seed, { embedStd: 0.5 });
  const rand = seeded(seed + 50);
  for (const name of Object.keys(params)) {
    if (!name.endsWith('.bias') && !name.endsWith('norm.weight')) continue;
    const n = params[name]!.shape[0]!;
    params[name]!.dispose();
    params[name] = np.array(Array.from({ length: n }, () => (name.endsWith('.bias') ? 0 : 1) + (rand() - 0.5)));
  }
  // ids drawn from 0..19 so most embedding rows are unused; token 3 appears several times
  const ids = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t % 3 === 0 ? 3 : Math.floor(rand() * 20) + b)));
  const targets = ids.map((r) => r.map(() => Math.floor(rand() * 260)));
  const mask = ids.map((r, b) => r.map((_, t) => (b === 1 && t < 2 ? 0 : 1)));
  return { params, ids, targets, mask, batch: makeBatch(ids, targets, mask, config) };
}

async function lossValue(params: Params, batch: Batch, cfg: TrainConfig = config): Promise<number> {
  return (await loss(refParams(params), refBatch(batch), cfg).data())[0]!;
}

/** The loss with one coordinate of one tensor moved by `delta`. */
async function lossAt(params: Params, batch: Batch, name: string, index: number, delta: number, cfg: TrainConfig = config): Promise<number> {
  const data = await params[name]!.ref.data();
  data[index] = data[index]! + delta;
  const moved: Params = { ...refParams(params) };
  moved[name]!.dispose();
  moved[name] = np.reshape(np.array(data), params[name]!.shape);
  return (await loss(moved, refBatch(batch), cfg).data())[0]!;
}

/** Gradient of `name` from valueAndGrad against central differences at its largest and three random coordinates. */
async function expectFiniteDifferences(params: Params, batch: Batch, cfg: TrainConfig, name: string): Promise<void> {
  const eps = 1e-2;
  const [value, grads] = valueAndGrad(lossOf(batch, cfg))(refParams(params)) as [np.Array, Params];
  expect((await value.data())[0]).toBeCloseTo(await lossValue(params, batch, cfg), 5);
  const g = await grads[name]!.data();
  // the largest-gradient coordinate plus three pseudo-random ones
  let top = 0;
  for (let i = 0; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[top]!)) top = i;
  const rand = seeded(name.length * 31 + 7);
  const picks = [top, ...Array.from({ length: 3 }, () => Math.floor(rand() * g.length))];
  expect(Math.abs(g[top]!)).toBeGreaterThan(1e-3);
  for (const i of picks) {
    const fd = ((await lossAt(params, batch, name, i, eps, cfg)) - (await lossAt(params, batch, name, i, -eps, cfg))) / (2 * eps);
    expect(Math.abs(fd - g[i]!)).toBeLessThan(2e-2 * Math.abs(g[i]!) + 2e-4);
  }
}

describe('loss', () => {
  it('equals the masked mean of −log softmax(forward logits)[target]', async () => {
    const { params, ids, targets, mask, batch } = setup(1);
    const logits = (await forward(refParams(params), ids, config).data()) as Float32Array;
    const V = config.vocabSize;
    let sum = 0;
    let count = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        if (!mask[b]![t]) continue;
        const row = Array.from(logits.subarray((b * T + t) * V, (b * T + t + 1) * V));
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((s, x) => s + Math.exp(x - mx), 0));
        sum += lse - row[targets[b]![t]!]!;
        count++;
      }
    }
    expect(await lossValue(params, batch)).toBeCloseTo(sum / count, 4);
  });
});

describe('gradients match central finite differences', () => {
  const cases: [string, string][] = [
    ['embedding', 'model.embed_tokens.weight'],
    ['q_proj weight', 'model.layers.0.self_attn.q_proj.weight'],
    ['q_proj bias', 'model.layers.1.self_attn.q_proj.bias'],
    ['k_proj bias', 'model.layers.0.self_attn.k_proj.bias'],
    ['MLP down weight', 'model.layers.0.mlp.down_proj.weight'],
    ['MLP gate weight', 'model.layers.1.mlp.gate_proj.weight'],
    ['norm weight', 'model.layers.1.input_layernorm.weight'],
    ['final norm', 'model.norm.weight'],
    ['head', 'lm_head.weight'],
  ];
  it.each(cases)('%s (%s)', async (_label, name) => {
    const { params, batch } = setup(2);
    await expectFiniteDifferences(params, batch, config, name);
  });
  it('embedding rows: unused rows get exactly 0, a repeated token sums its uses', async () => {
    const { params, batch } = setup(3);
    const [, grads] = valueAndGrad(lossOf(batch, config))(refParams(params)) as [np.Array, Params];
    const g = await grads['model.embed_tokens.weight']!.data();
    const H = config.hidden;
    const rowNorm = (r: number): number => Math.hypot(...g.subarray(r * H, (r + 1) * H));
    for (const unused of [100, 200, 259]) expect(rowNorm(unused)).toBe(0);
    expect(rowNorm(3)).toBeGreaterThan(1e-4);
  });
});

describe('vision tower gradients match central finite differences', () => {
  const tok = tinyTokenIds(false);
  const vl: TrainConfig = {
    ...config, imageTokenId: tok.imagePad,
    vision: { depth: 1, hidden: 8, intermediate: 12, numHeads: 2, patchSize: 2, imageSize: [8, 8] },
  };
  const cases = ['visual.patch_embed.proj.weight', 'visual.blocks.0.attn.qkv.weight', 'visual.blocks.0.mlp.up_proj.bias', 'visual.merger.mlp.0.weight', 'visual.merger.ln_q.weight'];
  it.each(cases)('%s', async (name) => {
    const params = initParams(vl, 4, { embedStd: 0.5 });
    const rand = seeded(8);
    // 8×8 image, 2×2 patches, merge 2 → n_v = 4 visual tokens at positions 1..4 of row 0
    const ids = [[5, ...new Array<number>(4).fill(tok.imagePad), 6], [7, 8, 9, 10, 11, 12]];
    const targets = ids.map((r) => r.map(() => Math.floor(rand() * 256)));
    const pixels = Float32Array.from({ length: 3 * 8 * 8 }, () => (rand() - 0.5) * 4);
    const batch = makeBatch(ids, targets, ids.map((r) => r.map(() => 1)), vl, [pixels, null]);
    await expectFiniteDifferences(params, batch, vl, name);
  });
});
