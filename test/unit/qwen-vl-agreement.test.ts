/**
 * The ONNX engine on hub-layout Qwen2-VL / Qwen2.5-VL checkpoints against the
 * independent float64 reference written from transformers' source
 * (test/reference/qwen-vl): last-position logits within 1e-4 of the largest
 * |logit| and identical greedy tokens, for both families and both tensor
 * namings, images of several sizes (windows that split the image, smaller
 * edge windows), the image at the start and in the middle, two images in one
 * prompt, text-only prompts and a left-padded batch.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QWEN_VL_TOKEN_IDS, writeHubQwenVl, type HubQwenVlOptions } from '../../src/engine/fixtures/hub-qwen-vl.js';
import type { ModelInput } from '../../src/engine/runtime/batch.js';
import type { SessionPool } from '../../src/engine/runtime/ort-sessions.js';
import { HookedRunner } from '../../src/engine/runtime/runner.js';
import { CheckpointWeights } from '../../src/engine/runtime/weights.js';
import type { PatchGrid, VisionImage } from '../../src/engine/model/vision-input.js';
import { loadQwenVlReference, referenceGreedy, referenceQwenVl, type QwenVlRefConfig, type RefWeights } from '../reference/qwen-vl/forward.js';
import { testPool } from './engine-fixtures.js';

const TOL = 1e-4;
const { visionStart: S, visionEnd: E, imagePad: I } = QWEN_VL_TOKEN_IDS;

let pool: SessionPool;
let dir: string;
beforeAll(async () => {
  pool = await testPool();
  dir = await mkdtemp(join(tmpdir(), 'qwen-vl-agreement-'));
});
afterAll(async () => {
  await pool.release();
  await rm(dir, { recursive: true, force: true });
});

/** Random processor rows for a grid, seeded (values like normalised pixels, about ±2). */
function image(grid: PatchGrid, seed: number, width = 3 * 2 * 14 * 14): VisionImage {
  let s = seed >>> 0;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  return { grid, patches: Float32Array.from({ length: grid.t * grid.h * grid.w * width }, () => (rand() - 0.5) * 4) };
}

const pads = (grid: PatchGrid) => [S, ...new Array<number>((grid.t * grid.h * grid.w) / 4).fill(I), E];

interface Setup {
  runner: HookedRunner;
  weights: CheckpointWeights;
  ref: { config: QwenVlRefConfig; weights: RefWeights };
}

let counter = 0;
async function setup(options: HubQwenVlOptions): Promise<Setup> {
  const path = join(dir, `m${counter++}`);
  await writeHubQwenVl(path, options);
  const weights = await CheckpointWeights.open(path);
  const runner = await HookedRunner.create({ weights, pool });
  return { runner, weights, ref: await loadQwenVlReference(path) };
}

async function done(s: Setup): Promise<void> {
  await s.runner.release();
  await s.weights.close();
}

/** Relative error of the engine's last-position logits of each row against the reference's. */
async function expectLogitsAgree(s: Setup, inputs: ModelInput[]): Promise<void> {
  const out = await s.runner.forward(inputs);
  const V = out.dims[1]!;
  const T = Math.max(...inputs.map((x) => x.inputIds.length));
  const ref = referenceQwenVl(s.ref.config, s.ref.weights, {
    ids: inputs.map((x) => [...new Array<number>(T - x.inputIds.length).fill(0), ...x.inputIds]),
    attentionMask: inputs.map((x) => [...new Array<number>(T - x.inputIds.length).fill(0), ...x.inputIds.map(() => 1)]),
    images: inputs.flatMap((x) => (x.images ?? []).map((img) => ({ pixelValues: img.patches, gridThw: [img.grid.t, img.grid.h, img.grid.w] as const }))),
  }, { lastOnly: true });
  inputs.forEach((_, b) => {
    const expected = ref.logits[b]!;
    const actual = out.logits.subarray(b * V, (b + 1) * V);
    let diff = 0;
    let scale = 0;
    for (let v = 0; v < V; v++) {
      diff = Math.max(diff, Math.abs(actual[v]! - expected[v]!));
      scale = Math.max(scale, Math.abs(expected[v]!));
    }
    expect(scale).toBeGreaterThan(0.1);
    expect(diff / scale).toBeLessThan(TOL);
  });
}

async function expectGreedyAgrees(s: Setup, input: ModelInput, steps: number): Promise<void> {
  const engine = await s.runner.generate([input], { maxNewTokens: steps, eosTokenIds: [] });
  const ref = referenceGreedy(s.ref.config, s.ref.weights, {
    ids: [[...input.inputIds]],
    images: (input.images ?? []).map((img) => ({ pixelValues: img.patches, gridThw: [img.grid.t, img.grid.h, img.grid.w] as const })),
  }, { maxNewTokens: steps, eosTokenIds: [] });
  expect(engine.tokens[0]).toEqual(ref.tokens[0]);
}

describe.each([['hub' as const], ['resaved' as const]])('Qwen2.5-VL (%s naming) against the reference', (naming) => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup({ family: 'qwen2_5_vl', naming, seed: naming === 'hub' ? 11 : 12, tied: naming === 'resaved', tiedHeadInFiles: naming === 'resaved' });
  });
  afterAll(async () => done(s));

  it('an image at the start whose windows split it (8x8 patches, 2x2-token windows), then text', async () => {
    const grid = { t: 1, h: 8, w: 8 };
    await expectLogitsAgree(s, [{ inputIds: [...pads(grid), 40, 41, 42], images: [image(grid, 1)] }]);
  });

  it('an image in the middle with smaller windows at the bottom edge (6x4 patches)', async () => {
    const grid = { t: 1, h: 6, w: 4 };
    await expectLogitsAgree(s, [{ inputIds: [30, 31, ...pads(grid), 32, 33], images: [image(grid, 2)] }]);
  });

  it('two images of different sizes in one prompt', async () => {
    const a = { t: 1, h: 4, w: 6 };
    const b = { t: 1, h: 8, w: 8 };
    await expectLogitsAgree(s, [{ inputIds: [30, ...pads(a), 31, ...pads(b), 32], images: [image(a, 3), image(b, 4)] }]);
  });

  it('a text-only prompt, and a left-padded batch of an image prompt and a shorter text prompt', async () => {
    const grid = { t: 1, h: 4, w: 4 };
    await expectLogitsAgree(s, [{ inputIds: [50, 51, 52, 53, 54] }]);
    await expectLogitsAgree(s, [{ inputIds: [60, ...pads(grid), 61, 62], images: [image(grid, 5)] }, { inputIds: [70, 71, 72] }]);
  });

  it('greedy tokens equal the reference (positions max+1+k after the image)', async () => {
    const grid = { t: 1, h: 6, w: 8 };
    await expectGreedyAgrees(s, { inputIds: [30, ...pads(grid), 31], images: [image(grid, 6)] }, 4);
  });
});

describe.each([['hub' as const], ['resaved' as const]])('Qwen2-VL (%s naming) against the reference', (naming) => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup({ family: 'qwen2_vl', naming, seed: naming === 'hub' ? 21 : 22 });
  });
  afterAll(async () => done(s));

  it('an image in the middle, LayerNorm + QuickGELU blocks', async () => {
    const grid = { t: 1, h: 4, w: 6 };
    await expectLogitsAgree(s, [{ inputIds: [30, ...pads(grid), 31, 32], images: [image(grid, 7)] }]);
  });

  it('two images in one prompt and a text-only prompt', async () => {
    const a = { t: 1, h: 6, w: 4 };
    const b = { t: 1, h: 4, w: 4 };
    await expectLogitsAgree(s, [{ inputIds: [...pads(a), 30, ...pads(b), 31], images: [image(a, 8), image(b, 9)] }]);
    await expectLogitsAgree(s, [{ inputIds: [80, 81, 82] }]);
  });

  it('greedy tokens equal the reference', async () => {
    const grid = { t: 1, h: 4, w: 4 };
    await expectGreedyAgrees(s, { inputIds: [...pads(grid), 31, 32], images: [image(grid, 10)] }, 4);
  });
});
