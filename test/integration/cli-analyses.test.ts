import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeTinyModel, writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { buildPrompt } from '../../src/engine/model/prompt.js';
import { TextTokenizer } from '../../src/engine/model/tokenizer.js';
import { loadImage } from '../../src/engine/model/image.js';
import { loadReferenceModel } from '../reference/weights.js';
import { referenceForward } from '../reference/forward.js';
import { writeCountingPairs, writeJsonlProbes } from '../helpers/probe-fixtures.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/frankenscope.js', import.meta.url).pathname;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'frankenscope-cli2-'));
  await writeTinyModel(join(dir, 'model'), { seed: 3 });
  await writeCountingPairs(join(dir, 'pairs'), 3);
  env = { ...process.env, FRANKENSCOPE_WAREHOUSE: join(dir, 'w.duckdb'), FRANKENSCOPE_MODEL_ROOTS: dir };
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => run(process.execPath, [BIN, ...args], { env, timeout: 120_000, maxBuffer: 1 << 26 });

describe('frankenscope run', () => {
  test('prints prompt ids, generated ids, text and last logits that match the float64 reference', async () => {
    const image = join(dir, 'pairs/counting/images/c0_t.png');
    const { stdout } = await cli(['run', '--model', join(dir, 'model'), '--prompt', '<image>How many?', '--image', image, '--max-new-tokens', '4', '--json']);
    const out = JSON.parse(stdout);
    const { config, weights } = await loadReferenceModel(join(dir, 'model'));
    const tokenizer = await TextTokenizer.load(join(dir, 'model'));
    const expectedIds = buildPrompt('<image>How many?', { tokenizer, config, hasImage: true }).ids;
    expect(out.promptTokenIds).toEqual(expectedIds);
    const ref = referenceForward(weights, config, { ids: [expectedIds], pixels: [await loadImage(image, config.vision)] });
    const T = expectedIds.length;
    const V = config.vocabSize;
    const last = ref.logits[0]!.subarray((T - 1) * V, T * V);
    expect(out.lastLogits).toHaveLength(V);
    let maxDiff = 0;
    for (let j = 0; j < V; j++) maxDiff = Math.max(maxDiff, Math.abs(out.lastLogits[j] - last[j]!));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(out.generatedTokenIds.length).toBeLessThanOrEqual(4);
    expect(out.text).toBe(tokenizer.decode(out.generatedTokenIds, { skipSpecialTokens: true }));
  }, 120_000);

  test('a missing model directory is a clear error', async () => {
    const e = await cli(['run', '--model', join(dir, 'nope'), '--prompt', 'hi']).catch((err) => err);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/nope/);
  });
});

describe('frankenscope localize', () => {
  test('runs a swap localization from directories and prints per-layer JSON', async () => {
    const { stdout } = await cli(['localize', '--model', join(dir, 'model'), '--probes', join(dir, 'pairs'), '--method', 'swap', '--layers', '1,12', '--max-new-tokens', '3', '--json']);
    const out = JSON.parse(stdout);
    const change = out.layers.filter((l: { metric: string; task: string }) => l.metric === 'change_rate' && l.task === 'all');
    expect(change.map((l: { layerIndex: number }) => l.layerIndex)).toEqual([1, 12]);
    expect(change.every((l: { n: number }) => l.n === 3)).toBe(true);
    const again = JSON.parse((await cli(['localize', '--model', join(dir, 'model'), '--probes', join(dir, 'pairs'), '--method', 'swap', '--layers', '1,12', '--max-new-tokens', '3', '--json'])).stdout);
    expect(again.cached).toBe(true);
    expect(again.runId).toBe(out.runId);
  }, 120_000);

  test('--skip-invalid-examples registers a probe folder without its pair with a junk image, naming it on stderr; without it the set is refused', async () => {
    const junk = join(dir, 'pairs-junk');
    await writeCountingPairs(junk, 3);
    await writeFile(join(junk, 'counting', 'images', 'c1_s.png'), 'junk bytes, not a PNG');
    const args = ['localize', '--model', join(dir, 'model'), '--probes', junk, '--method', 'swap', '--layers', '1', '--max-new-tokens', '2', '--json'];
    const refused = await cli(args).catch((err) => err);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("(example 'counting_000001'): 'source_image' = 'counting/images/c1_s.png' is not a PNG or JPEG image");
    expect(refused.stderr).toContain('--skip-invalid-examples');

    const { stdout, stderr } = await cli([...args, '--skip-invalid-examples']);
    expect(stderr).toContain("registered with 2 examples, without 1 whose images cannot be used:\n  counting_000001: 'source_image' = 'counting/images/c1_s.png'");
    const change = JSON.parse(stdout).layers.filter((l: { metric: string; task: string }) => l.metric === 'change_rate' && l.task === 'all');
    expect(change.map((l: { layerIndex: number; n: number }) => [l.layerIndex, l.n])).toEqual([[1, 2]]);
  }, 120_000);

  test('an unknown method is refused', async () => {
    const e = await cli(['localize', '--model', join(dir, 'model'), '--probes', join(dir, 'pairs'), '--method', 'melt']).catch((err) => err);
    expect(e.code).not.toBe(0);
    expect(e.stderr).toMatch(/swap or ablate/);
  });
});

describe('frankenscope transfer', () => {
  test('prints the table of IN, RL and the six splices in each setting the probes support', async () => {
    await writeTinyTrio(join(dir, 'trio'), { numLayers: 6 });
    await writeJsonlProbes(join(dir, 'settings'), [
      { id: 'p0', prompt: '<image>How many?', answer: '2', image: true, split: 'perception' },
      { id: 'p1', prompt: '<image>How many?', answer: '3', image: true, split: 'perception' },
      { id: 'r0', prompt: 'What is 1 + 1?', answer: '2', split: 'reasoning' },
    ]);
    const { stdout } = await cli(['transfer', '--sft', join(dir, 'trio/sft'), '--rl', join(dir, 'trio/rl'), '--probes', join(dir, 'settings'), '--max-new-tokens', '2', '--json']);
    const out = JSON.parse(stdout);
    // no alignment split and no descriptions: perception and reasoning only
    expect(out.rows).toHaveLength(8 * 2);
    expect(new Set(out.rows.map((r: { setting: string }) => r.setting))).toEqual(new Set(['perception', 'reasoning']));
    for (const r of out.rows.filter((x: { setting: string }) => x.setting === 'perception')) {
      expect(r.transition.nTT + r.transition.nTF + r.transition.nFT + r.transition.nFF).toBe(2);
    }
  }, 180_000);
});
