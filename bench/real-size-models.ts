/**
 * Writes real-size checkpoints with random BF16 weights in the Hugging Face
 * hub layout, for bench/real-size.ts and for trying the engine as a user
 * would (never committed: each is 6-7.5 GB):
 *
 *   npx tsx bench/real-size-models.ts --out /tmp/real-size [--only text,text-rl,vl]
 *
 * (default `text,text-rl,vl`; the others only when named)
 *
 * - `text`: Qwen2.5-3B-shaped (`qwen2`, hidden 2048, intermediate 11008,
 *   36 layers, 16 heads / 2 KV heads, vocab 151936, tied), 5.8 GB
 * - `text-rl`: the same shape, other values (the "RL" of a splice)
 * - `text-base`: the same shape, other values (the "Base" of a trio)
 * - `vl`: Qwen2.5-VL-3B-shaped (`qwen2_5_vl`: the language model above plus a
 *   32-block vision tower of width 1280), 7.5 GB; `vl-rl` and `vl-base`:
 *   the same shape, other values (a trio for the analyses that compare models)
 * - `text-7b`: Qwen2.5-7B-shaped (hidden 3584, intermediate 18944, 28
 *   layers, 28 heads / 4 KV heads, vocab 152064, untied head), 15.2 GB
 *
 * Values and companion files: src/engine/fixtures/random-checkpoint.ts.
 */
import { join } from 'node:path';
import type { HubQwenVlOptions } from '../src/engine/fixtures/hub-qwen-vl.js';
import { writeRandomHubCheckpoint } from '../src/engine/fixtures/random-checkpoint.js';

export const QWEN25_3B: HubQwenVlOptions = {
  family: 'qwen2_5_vl',
  tied: true,
  hidden: 2048,
  intermediate: 11008,
  numLayers: 36,
  numHeads: 16,
  numKvHeads: 2,
  mropeSection: [16, 24, 24],
  ropeTheta: 1e6,
  vocabSize: 151936,
  visionWidth: 1280,
  visionDepth: 32,
  visionHeads: 16,
  visionIntermediate: 3420,
  windowSize: 112,
  fullattBlockIndexes: [7, 15, 23, 31],
  minPixels: 3136,
  maxPixels: 12845056,
};

export const QWEN25_7B: HubQwenVlOptions = {
  ...QWEN25_3B,
  tied: false,
  hidden: 3584,
  intermediate: 18944,
  numLayers: 28,
  numHeads: 28,
  numKvHeads: 4,
  vocabSize: 152064,
};

/** The bench's models: shape, text or VL, seed. */
export const REAL_SIZE_MODELS = {
  text: [QWEN25_3B, 'text', 1],
  'text-rl': [QWEN25_3B, 'text', 2],
  'text-base': [QWEN25_3B, 'text', 4],
  vl: [QWEN25_3B, 'vl', 3],
  'vl-rl': [QWEN25_3B, 'vl', 5],
  'vl-base': [QWEN25_3B, 'vl', 6],
  'text-7b': [QWEN25_7B, 'text', 7],
} as const satisfies Record<string, readonly [HubQwenVlOptions, 'text' | 'vl', number]>;

export type RealSizeModel = keyof typeof REAL_SIZE_MODELS;

/** Writes one of the bench's models into `dir`; returns the bytes of tensor data. */
export function writeRealSizeModel(dir: string, name: RealSizeModel): Promise<number> {
  const [shape, kind, seed] = REAL_SIZE_MODELS[name];
  return writeRandomHubCheckpoint(dir, shape, kind, seed);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const out = at('--out') ?? '/tmp/real-size';
  const only = (at('--only') ?? 'text,text-rl,vl').split(',');
  for (const name of only) {
    if (!(name in REAL_SIZE_MODELS)) throw new Error(`--only takes ${Object.keys(REAL_SIZE_MODELS).join(', ')}; got ${name}`);
    const t0 = performance.now();
    const bytes = await writeRealSizeModel(join(out, name), name as RealSizeModel);
    process.stdout.write(`${JSON.stringify({ model: name, dir: join(out, name), gb: +(bytes / 1e9).toFixed(2), seconds: +((performance.now() - t0) / 1000).toFixed(1) })}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
