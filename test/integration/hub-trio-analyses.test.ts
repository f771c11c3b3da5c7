/**
 * Every analysis kind on a tiny hub-layout Qwen2.5-VL trio (Base / IN / RL as
 * the hub ships them: BF16 shards, M-RoPE, window attention, images of their
 * own sizes) through the same GraphQL fields as the demo trio, each to DONE
 * with rows for every layer; and one analysis on a Qwen2-VL checkpoint.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeHubQwenVl } from '../../src/engine/fixtures/hub-qwen-vl.js';
import { writeSquaresPng } from '../../src/engine/fixtures/probe-images.js';
import { writeReport } from '../../src/report/index.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
const LAYERS = 3;
const VISION_BLOCKS = 3;
const llmLayers = Array.from({ length: LAYERS }, (_, i) => i + 1);

async function writeProbeSets(root: string): Promise<void> {
  const pairs = join(root, 'pairs', 'counting');
  await mkdir(join(pairs, 'images'), { recursive: true });
  const pairLines: string[] = [];
  for (let i = 0; i < 3; i++) {
    await writeSquaresPng(join(pairs, 'images', `c${i}_t.png`), 1 + i, i, 56 + 28 * (i % 2));
    await writeSquaresPng(join(pairs, 'images', `c${i}_s.png`), 4 + i, i + 7, 84 - 28 * (i % 2));
    pairLines.push(JSON.stringify({ id: `counting_${i}`, task: 'counting', target_image: `images/c${i}_t.png`, source_image: `images/c${i}_s.png`, prompt: '<image>How many items are there in the image?', meta: { target_answer: String(1 + i), source_answer: String(4 + i) } }));
  }
  await writeFile(join(pairs, 'data.jsonl'), pairLines.join('\n') + '\n');
  const questions = join(root, 'questions');
  await mkdir(join(questions, 'img'), { recursive: true });
  const lines: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    await writeSquaresPng(join(questions, 'img', `q${i}.png`), 2 + i, 20 + i, 56 + 28 * i);
    lines.push({ id: `p${i}`, split: 'perception', task: 'counting', prompt: '<image>How many squares?', image: `img/q${i}.png`, answer: String(2 + i) });
    lines.push({ id: `a${i}`, split: 'alignment', task: 'counting', prompt: '<image>How many squares?', image: `img/q${i}.png`, answer: String(2 + i), description: 'a few coloured squares on black' });
    lines.push({ id: `r${i}`, split: 'reasoning', task: 'numeric', prompt: `What is ${i} + 2?`, answer: String(i + 2) });
  }
  await writeFile(join(questions, 'probes.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

async function register(mutation: string, path: string, name: string): Promise<void> {
  const r = await t.execute(`mutation { ${mutation}(path: "${path}", name: "${name}") { id } }`);
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
}

beforeAll(async () => {
  t = await createTestApp({ numLayers: 2, hidden: 16, intermediate: 32 });
  const models = join(t.dir, 'models');
  // one architecture, three seeds: the trio, and a fourth checkpoint standing in for RL trained with a layer range frozen
  for (const [name, seed] of [['base', 51], ['sft', 52], ['rl', 53], ['frozen', 54]] as const) {
    await writeHubQwenVl(join(models, 'hub', name), { family: 'qwen2_5_vl', seed, numLayers: LAYERS, visionDepth: VISION_BLOCKS });
    await register('registerCheckpoint', `hub/${name}`, `hub/${name}`);
  }
  await writeHubQwenVl(join(models, 'hub', 'qwen2vl'), { family: 'qwen2_vl', naming: 'resaved', seed: 55, numLayers: LAYERS });
  await register('registerCheckpoint', 'hub/qwen2vl', 'hub/qwen2vl');
  await writeProbeSets(join(models, 'probes'));
  await register('registerProbeSet', 'probes/pairs', 'pairs');
  await register('registerProbeSet', 'probes/questions', 'questions');
}, 300_000);

afterAll(async () => t?.close());

const OPTIONS = 'options: { maxNewTokens: 2 }';
const layerIndices = (rows: { index: number | null }[]) => [...new Set(rows.map((r) => r.index).filter((i) => i !== null))].sort((a, b) => a! - b!);

describe('every analysis on a hub-layout Qwen2.5-VL trio', () => {
  test('characterization: vision blocks, projector and every decoder layer', async () => {
    const r = await t.execute<any>(`{ characterization(base: "hub/base", sft: "hub/sft", rl: "hub/rl", waitSeconds: 300) { status layers { index section } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.characterization.status).toBe('DONE');
    expect(r.data.characterization.layers.map((l: { index: number }) => l.index)).toEqual([...Array.from({ length: VISION_BLOCKS }, (_, i) => i - VISION_BLOCKS), 0, ...llmLayers]);
  }, 300_000);

  test.each([
    ['visual-token swap', `localization(model: "hub/sft", probeSet: "pairs", method: VISUAL_TOKEN_SWAP, ${OPTIONS}, waitSeconds: 300)`],
    ['zero ablation', `localization(model: "hub/sft", probeSet: "questions", method: ZERO_ABLATION, ${OPTIONS}, waitSeconds: 300)`],
    ['attention shift', `attentionShift(a: "hub/sft", b: "hub/rl", probeSet: "pairs", waitSeconds: 300)`],
    ['activation patching', `activationPatching(target: "hub/sft", source: "hub/rl", probeSet: "questions", ${OPTIONS}, waitSeconds: 300)`],
  ])('%s reaches DONE with rows for every decoder layer', async (_name, field) => {
    const r = await t.execute<any>(`{ result: ${field} { status layers { index metric value } } }`);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(r.data.result.status).toBe('DONE');
    expect(layerIndices(r.data.result.layers)).toEqual(llmLayers);
  }, 300_000);

  test('transferability: IN, RL and the six splices in the three settings', async () => {
    const r = await t.execute<any>(`{ transferability(sft: "hub/sft", rl: "hub/rl", probeSet: "questions", ${OPTIONS}, waitSeconds: 600) { status rows { variant setting } } }`);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(r.data.transferability.status).toBe('DONE');
    expect(r.data.transferability.rows).toHaveLength(8 * 3);
  }, 600_000);

  test('necessity: RL, IN, the frozen checkpoint and the proxies', async () => {
    const r = await t.execute<any>(`{ necessity(rl: "hub/rl", sft: "hub/sft", frozen: ["hub/frozen"], probeSet: "questions", ${OPTIONS}, waitSeconds: 600) { status rows { kind setting } } }`);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(r.data.necessity.status).toBe('DONE');
    expect(new Set(r.data.necessity.rows.map((x: { kind: string }) => x.kind))).toEqual(new Set(['in', 'rl', 'frozen', 'revert_proxy', 'reverse_proxy']));
  }, 600_000);
});

describe('frankenscope report on the hub trio', () => {
  test('writes one self-contained HTML file from every analysis', async () => {
    const path = join(t.dir, 'report.html');
    const report = await writeReport(t.app, { base: 'hub/base', sft: 'hub/sft', rl: 'hub/rl', probes: 'questions', pairs: 'pairs', frozen: ['hub/frozen'], maxNewTokens: 2, path });
    const html = await readFile(path, 'utf8');
    expect(report.runIds.length).toBeGreaterThanOrEqual(7);
    expect(report.data.swap).not.toBeNull();
    expect(html).toContain('hub/rl');
    expect(html).not.toMatch(/<script/i);
  }, 600_000);
});

describe('a hub-layout Qwen2-VL checkpoint (re-saved naming)', () => {
  test('zero ablation reaches DONE with rows for every decoder layer', async () => {
    const r = await t.execute<any>(`{ localization(model: "hub/qwen2vl", probeSet: "questions", method: ZERO_ABLATION, ${OPTIONS}, waitSeconds: 300) { status layers { index } } }`);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(r.data.localization.status).toBe('DONE');
    expect(layerIndices(r.data.localization.layers)).toEqual(llmLayers);
  }, 300_000);
});
