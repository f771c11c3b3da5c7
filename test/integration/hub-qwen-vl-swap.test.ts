/**
 * The visual-token swap on a hub-layout Qwen2.5-VL checkpoint whose pairs
 * have images of unequal sizes: the source is processed at the target's
 * grid (docs/engine.md, "Pairs of unequal images"), the run reaches DONE with
 * rows for every language-model layer, and swapping an image with itself
 * (at its own size) changes nothing.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeHubQwenVl } from '../../src/engine/fixtures/hub-qwen-vl.js';
import { writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { writeSquaresPng } from '../../src/engine/fixtures/probe-images.js';
import { parseModelConfig } from '../../src/engine/model/config.js';
import { loadVisionImage, loadVisionImageAt } from '../../src/engine/model/vision-images.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
const LAYERS = 3;

async function writePairs(root: string, sizes: { target: number; source: number }[]): Promise<void> {
  const dir = join(root, 'counting');
  await mkdir(join(dir, 'images'), { recursive: true });
  const lines: string[] = [];
  for (const [i, size] of sizes.entries()) {
    const target = `images/p${i}_t.png`;
    const source = size.source === size.target ? target : `images/p${i}_s.png`;
    await writeSquaresPng(join(dir, target), 1 + i, i, size.target);
    if (source !== target) await writeSquaresPng(join(dir, source), 4 + i, i + 9, size.source);
    lines.push(JSON.stringify({
      id: `counting_${String(i).padStart(6, '0')}`, task: 'counting', target_image: target, source_image: source,
      prompt: '<image>How many items are there in the image?', meta: { target_answer: String(1 + i), source_answer: String(source === target ? 1 + i : 4 + i) },
    }));
  }
  await writeFile(join(dir, 'data.jsonl'), lines.join('\n') + '\n');
}

beforeAll(async () => {
  t = await createTestApp({ numLayers: 2, hidden: 16, intermediate: 32 });
  const models = join(t.dir, 'models');
  await writeHubQwenVl(join(models, 'hub', 'qwen25'), { family: 'qwen2_5_vl', seed: 41, numLayers: LAYERS });
  await writePairs(join(models, 'probes', 'unequal'), [{ target: 56, source: 84 }, { target: 84, source: 56 }]);
  await writePairs(join(models, 'probes', 'self'), [{ target: 56, source: 56 }, { target: 84, source: 84 }]);
  for (const [path, name] of [['hub/qwen25', 'qwen25'], ['probes/unequal', 'unequal'], ['probes/self', 'self']] as const) {
    const mutation = path.startsWith('probes') ? 'registerProbeSet' : 'registerCheckpoint';
    const r = await t.execute(`mutation { ${mutation}(path: "${path}", name: "${name}") { id } }`);
    expect(r.errors).toBeUndefined();
  }
}, 180_000);

afterAll(async () => t?.close());

const FIELDS = 'status layers { index task metric value n }';

describe('visual-token swap on a hub Qwen2.5-VL checkpoint', () => {
  test('pairs of unequal images run to DONE with rows for every language-model layer', async () => {
    const r = await t.execute<any>(`{ localization(model: "qwen25", probeSet: "unequal", method: VISUAL_TOKEN_SWAP, options: { maxNewTokens: 2 }, waitSeconds: 300) { ${FIELDS} } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.localization.status).toBe('DONE');
    const layers = new Set(r.data.localization.layers.filter((l: any) => l.metric === 'change_rate').map((l: any) => l.index));
    expect([...layers].sort()).toEqual(Array.from({ length: LAYERS }, (_, i) => i + 1));
    for (const row of r.data.localization.layers.filter((l: any) => l.metric === 'change_rate' && l.task === 'all')) expect(row.n).toBe(2);
  }, 300_000);

  test('swapping an image with itself changes nothing at any layer', async () => {
    const r = await t.execute<any>(`{ localization(model: "qwen25", probeSet: "self", method: VISUAL_TOKEN_SWAP, options: { maxNewTokens: 2 }, waitSeconds: 300) { ${FIELDS} } }`);
    expect(r.data.localization.status).toBe('DONE');
    const changes = r.data.localization.layers.filter((l: any) => l.metric === 'change_rate');
    expect(changes.length).toBeGreaterThan(0);
    for (const row of changes) expect(row.value).toBe(0);
  }, 300_000);
});

describe('chat formatting of analysis prompts', () => {
  const ablate = (model: string, chat: string) =>
    t.execute<any>(`{ localization(model: "${model}", probeSet: "unequal", method: ZERO_ABLATION, options: { layers: [1], maxNewTokens: 1${chat} }, waitSeconds: 300) { status run { id params } } }`);

  test('is on by default for a model that ships a chat template, part of the cache key, and can be turned off', async () => {
    const byDefault = await ablate('qwen25', '');
    expect(byDefault.data.localization.status).toBe('DONE');
    expect(byDefault.data.localization.run.params.chat).toBe(true);
    const explicit = await ablate('qwen25', ', chat: true');
    expect(explicit.data.localization.run.id).toBe(byDefault.data.localization.run.id);
    const plain = await ablate('qwen25', ', chat: false');
    expect(plain.data.localization.status).toBe('DONE');
    expect(plain.data.localization.run.params.chat).toBe(false);
    expect(plain.data.localization.run.id).not.toBe(byDefault.data.localization.run.id);
  }, 300_000);

  test('is refused, naming the option, for a model without a chat template', async () => {
    await writeTinyTrio(join(t.dir, 'models', 'tiny'), { numLayers: 2 });
    const r = await t.execute<any>(`mutation { registerCheckpoint(path: "tiny/sft", name: "plain") { id } }`);
    expect(r.errors).toBeUndefined();
    const refused = await t.execute<any>(`{ localization(model: "plain", probeSet: "unequal", method: ZERO_ABLATION, options: { chat: true }) { status } }`);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'options.chat' });
  });
});

describe('an image processed at another image\'s grid', () => {
  test('takes that grid, and at its own size equals the processor\'s own result', async () => {
    const dir = join(t.dir, 'models', 'probes', 'unequal', 'counting', 'images');
    const model = join(t.dir, 'models', 'hub', 'qwen25');
    const json = async (file: string) => JSON.parse(await readFile(join(model, file), 'utf8'));
    const config = parseModelConfig(await json('config.json'), { preprocessorConfig: await json('preprocessor_config.json') });
    const own = await loadVisionImage(join(dir, 'p0_t.png'), config);
    const again = await loadVisionImageAt(join(dir, 'p0_t.png'), own.grid, config);
    expect(again.grid).toEqual(own.grid);
    expect(Buffer.from(again.patches.buffer).equals(Buffer.from(own.patches.buffer))).toBe(true);
    const other = await loadVisionImage(join(dir, 'p0_s.png'), config);
    expect(other.grid).not.toEqual(own.grid);
    const resized = await loadVisionImageAt(join(dir, 'p0_s.png'), own.grid, config);
    expect(resized.grid).toEqual(own.grid);
    expect(resized.patches.length).toBe(own.patches.length);
  });
});
