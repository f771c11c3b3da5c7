/**
 * Writes real-size checkpoints with random BF16 weights in the Hugging Face
 * hub layout, for bench/real-size.ts and for trying the engine as a user
 * would (never committed: each is 6-7.5 GB):
 *
 *   npx tsx bench/real-size-models.ts --out /tmp/real-size [--only text,text-rl,vl]
 *
 * - `text`: Qwen2.5-3B-shaped (`qwen2`, hidden 2048, intermediate 11008,
 *   36 layers, 16 heads / 2 KV heads, vocab 151936, tied), 5.8 GB
 * - `text-rl`: the same shape, other values (the "RL" of a splice)
 * - `vl`: Qwen2.5-VL-3B-shaped (`qwen2_5_vl`: the language model above plus a
 *   32-block vision tower of width 1280), 7.5 GB
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

/** Writes one of the bench's models into `dir`; returns the bytes of tensor data. */
export function writeRealSizeModel(dir: string, kind: 'text' | 'vl', seed: number): Promise<number> {
  return writeRandomHubCheckpoint(dir, QWEN25_3B, kind, seed);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const out = at('--out') ?? '/tmp/real-size';
  const only = (at('--only') ?? 'text,text-rl,vl').split(',');
  const kinds = { text: ['text', 1], 'text-rl': ['text', 2], vl: ['vl', 3] } as const;
  for (const name of only) {
    const k = kinds[name as keyof typeof kinds];
    if (!k) throw new Error(`--only takes text, text-rl, vl; got ${name}`);
    const t0 = performance.now();
    const bytes = await writeRealSizeModel(join(out, name), k[0], k[1]);
    process.stdout.write(`${JSON.stringify({ model: name, dir: join(out, name), gb: +(bytes / 1e9).toFixed(2), seconds: +((performance.now() - t0) / 1000).toFixed(1) })}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
