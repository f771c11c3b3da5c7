/**
 * The jax-js training model against the ONNX engine: a checkpoint written by
 * writeCheckpoint, opened by CheckpointWeights and run by HookedRunner, gives
 * the same logits as the jax-js forward pass (within 1e-4).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDevice, init, numpy as np } from '@jax-js/jax';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyTokenIds, tinyTokenizerFiles } from '../../src/engine/fixtures/index.js';
import type { SessionPool } from '../../src/engine/runtime/ort-sessions.js';
import { HookedRunner } from '../../src/engine/runtime/runner.js';
import { CheckpointWeights } from '../../src/engine/runtime/weights.js';
import { writeCheckpoint } from '../../src/train/checkpoint.js';
import type { TrainConfig } from '../../src/train/config.js';
import { disposeParams, forward, initParams, refParams, type Params } from '../../src/train/model.js';
import { maxAbsDiff, seeded, testPool } from './engine-fixtures.js';

let pool: SessionPool;
let dir: string;
beforeAll(async () => {
  await init('wasm');
  defaultDevice('wasm');
  pool = await testPool();
  dir = await mkdtemp(join(tmpdir(), 'train-agreement-'));
});
afterAll(async () => {
  await pool.release();
  await rm(dir, { recursive: true, force: true });
});

/** Replaces biases and norm weights (initialised to 0 and 1) with random values, so they are exercised. */
function perturb(p: Params, seed: number): void {
  const rand = seeded(seed);
  for (const name of Object.keys(p)) {
    if (!name.endsWith('.bias') && !name.endsWith('norm.weight')) continue;
    const old = p[name]!;
    const base = name.endsWith('.bias') ? 0 : 1;
    p[name] = np.array(Array.from({ length: old.shape[0]! }, () => base + (rand() - 0.5)));
    old.dispose();
  }
}

async function expectAgreement(config: TrainConfig, seed: number, ids: number[][], pixels?: (Float32Array | null)[]): Promise<void> {
  const params = initParams(config, seed);
  perturb(params, seed + 100);
  const sub = join(dir, `m${seed}`);
  await writeCheckpoint(sub, params, config, tinyTokenizerFiles(false));
  const jaxLogits = await forward(refParams(params), ids, config, pixels).data();
  disposeParams(params);

  const weights = await CheckpointWeights.open(sub);
  const runner = await HookedRunner.create({ weights, pool });
  try {
    const out = await runner.forward(ids.map((r, b) => (pixels?.[b] ? { inputIds: r, pixels: pixels[b]! } : { inputIds: r })), { positions: 'all' });
    expect(out.dims).toEqual([ids.length, ids[0]!.length, config.vocabSize]);
    const { diff, scale } = maxAbsDiff(out.logits, jaxLogits);
    expect(diff).toBeLessThan(1e-4);
    // logits of O(1) or more: agreement is not between two near-zero arrays
    expect(scale).toBeGreaterThan(1);
  } finally {
    await runner.release();
    await weights.close();
  }
}

const rows = (B: number, T: number, seed: number): number[][] => {
  const rand = seeded(seed);
  return Array.from({ length: B }, () => Array.from({ length: T }, () => Math.floor(rand() * 256)));
};

describe('jax-js forward agrees with the ONNX engine on an exported checkpoint', () => {
  it('untied head, grouped-query attention (4 query heads on 2 kv heads)', async () => {
    const config: TrainConfig = { vocabSize: 260, hidden: 32, intermediate: 48, numLayers: 2, numHeads: 4, numKvHeads: 2, eosTokenId: 256 };
    await expectAgreement(config, 1, rows(2, 8, 11));
  });

  it('tied embeddings, no lm_head.weight, rope_theta 500', async () => {
    const config: TrainConfig = { vocabSize: 260, hidden: 32, intermediate: 40, numLayers: 2, numHeads: 2, tieWordEmbeddings: true, ropeTheta: 500 };
    await expectAgreement(config, 2, rows(2, 8, 12));
  });

  it("vision-language ('frankenscope_vl'): one row with an image span, one text-only", async () => {
    const tok = tinyTokenIds(false);
    const config: TrainConfig = {
      vocabSize: 260, hidden: 32, intermediate: 48, numLayers: 2, numHeads: 4, numKvHeads: 2,
      imageTokenId: tok.imagePad, visionStartTokenId: tok.visionStart, visionEndTokenId: tok.visionEnd,
      vision: { depth: 2, hidden: 16, intermediate: 24, numHeads: 2, patchSize: 4, imageSize: [16, 16] },
    };
    // 16×16 image, 4×4 patches, merge 2 → n_v = 4 visual tokens
    const [text] = rows(1, 14, 13);
    const withImage = [...text!.slice(0, 3), tok.visionStart, ...new Array<number>(4).fill(tok.imagePad), tok.visionEnd, ...text!.slice(3, 8)];
    const rand = seeded(14);
    const pixels = Float32Array.from({ length: 3 * 16 * 16 }, () => (rand() - 0.5) * 4);
    await expectAgreement(config, 3, [withImage, text!], [pixels, null]);
  });
});
