/**
 * `frankenscope run --json` on hub-layout Qwen2.5-VL / Qwen2-VL directories,
 * unchanged on disk: PNG files through the model's own image processor (one
 * needing a max_pixels downscale, one resized to multiples of 28), two images
 * in one prompt, and a text-only prompt, against the float64 reference.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { QWEN_VL_TOKEN_IDS, writeHubQwenVl } from '../../src/engine/fixtures/hub-qwen-vl.js';
import { parseQwen2VLPreprocessorConfig, processQwenImage } from '../../src/engine/model/families/qwen-vl/image-processor.js';
import { TextTokenizer } from '../../src/engine/model/tokenizer.js';
import { loadQwenVlReference, referenceGreedy, referenceQwenVl } from '../reference/qwen-vl/forward.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/frankenscope.js', import.meta.url).pathname;
let dir: string;

async function png(path: string, width: number, height: number, seed: number): Promise<string> {
  let s = seed;
  const data = Buffer.from(Array.from({ length: width * height * 3 }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 24)));
  await sharp(data, { raw: { width, height, channels: 3 } }).png().toFile(path);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'frankenscope-run-qwen-vl-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface RunJson {
  promptTokenIds: number[];
  generatedTokenIds: number[];
  lastLogits: number[];
}

async function cli(args: string[]): Promise<RunJson> {
  const { stdout } = await run(process.execPath, [BIN, 'run', ...args, '--json'], { timeout: 120_000, maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as RunJson;
}

function relativeError(actual: readonly number[], expected: Float64Array): number {
  let diff = 0;
  let scale = 0;
  expected.forEach((e, i) => {
    diff = Math.max(diff, Math.abs(actual[i]! - e));
    scale = Math.max(scale, Math.abs(e));
  });
  return diff / scale;
}

describe('frankenscope run on hub checkpoints', () => {
  test('Qwen2.5-VL (re-saved naming): two PNGs of their own sizes in one prompt', async () => {
    const model = join(dir, 'qwen25');
    await writeHubQwenVl(model, { family: 'qwen2_5_vl', naming: 'resaved', seed: 31, tied: true });
    const big = await png(join(dir, 'big.png'), 150, 200, 1); // 200x150 px: over max_pixels, downscaled to 112x84
    const small = await png(join(dir, 'small.png'), 90, 60, 2); // 60x90 px: rounded to 56x84
    const out = await cli(['--model', model, '--prompt', 'ab<image>cd<image>e', '--image', big, '--image', small, '--max-new-tokens', '3']);
    const processor = parseQwen2VLPreprocessorConfig(JSON.parse(await readFile(join(model, 'preprocessor_config.json'), 'utf8')));
    const images = await Promise.all([big, small].map((f) => processQwenImage(f, processor)));
    expect(images.map((i) => i.gridThw)).toEqual([[1, 8, 6], [1, 4, 6]]);
    const { visionStart: S, visionEnd: E, imagePad: I } = QWEN_VL_TOKEN_IDS;
    const spans = out.promptTokenIds.flatMap((id, k) => (id === S ? [k] : []));
    expect(spans).toHaveLength(2);
    expect(out.promptTokenIds.filter((id) => id === I)).toHaveLength(12 + 6);
    expect(out.promptTokenIds[spans[0]! + 13]).toBe(E);

    const ref = await loadQwenVlReference(model);
    const input = { ids: [out.promptTokenIds], images: images.map((i) => ({ pixelValues: i.pixelValues, gridThw: i.gridThw as [number, number, number] })) };
    const logits = referenceQwenVl(ref.config, ref.weights, input, { lastOnly: true }).logits[0]!;
    expect(relativeError(out.lastLogits, logits)).toBeLessThan(1e-4);
    const greedy = referenceGreedy(ref.config, ref.weights, input, { maxNewTokens: 3, eosTokenIds: [151645, 151643] });
    expect(out.generatedTokenIds).toEqual(greedy.tokens[0]);
  });

  test('Qwen2-VL (hub naming): a text-only prompt', async () => {
    const model = join(dir, 'qwen2');
    await writeHubQwenVl(model, { family: 'qwen2_vl', seed: 32 });
    const out = await cli(['--model', model, '--prompt', 'hello there', '--max-new-tokens', '3']);
    const ref = await loadQwenVlReference(model);
    const input = { ids: [out.promptTokenIds] };
    expect(relativeError(out.lastLogits, referenceQwenVl(ref.config, ref.weights, input, { lastOnly: true }).logits[0]!)).toBeLessThan(1e-4);
    expect(out.generatedTokenIds).toEqual(referenceGreedy(ref.config, ref.weights, input, { maxNewTokens: 3, eosTokenIds: [151645, 151643] }).tokens[0]);
  });

  test('--chat renders the model\'s chat template around the prompt, the image expanded in place', async () => {
    const model = join(dir, 'qwen2');
    const img = await png(join(dir, 'chat.png'), 56, 56, 4);
    const out = await cli(['--model', model, '--prompt', '<image>What is this?', '--image', img, '--chat', '--max-new-tokens', '1']);
    const tokenizer = await TextTokenizer.load(model);
    const { visionStart: S, visionEnd: E, imagePad: I } = QWEN_VL_TOKEN_IDS;
    // Qwen2-VL's template: a default system turn, the user turn with the image first, then the assistant's prompt
    expect(out.promptTokenIds).toEqual([
      ...tokenizer.encode('<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n'),
      S, I, I, I, I, E,
      ...tokenizer.encode('What is this?<|im_end|>\n<|im_start|>assistant\n'),
    ]);
  });

  test('--chat on a model without a chat template says so', async () => {
    await expect(cli(['--model', join(import.meta.dirname, '../../data/demo/sft'), '--prompt', 'hi', '--chat'])).rejects.toThrow(/no chat template/);
  });

  test('refuses a prompt whose markers do not match its images, naming both counts', async () => {
    const model = join(dir, 'qwen2');
    const img = await png(join(dir, 'one.png'), 56, 56, 3);
    await expect(cli(['--model', model, '--prompt', '<image><image>what', '--image', img])).rejects.toThrow(/2 '<image>' markers but 1 image was given/);
  });
});
