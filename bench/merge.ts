/**
 * Time to the first score of a new Frankenstein variant: zero-copy
 * composition (MergedWeights straight into the runner) next to
 * materialise-then-load-then-score (exportVariant, open, score), in the
 * same run, on a generated model with 12 layers of width 256. Prints JSON.
 *
 *   npx tsx bench/merge.ts [--hidden 256] [--layers 12] [--dtype BF16]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeTinyTrio } from '../src/engine/fixtures/index.js';
import { exportVariant, MergedWeights, presetRecipe } from '../src/engine/merge/index.js';
import { HookedRunner } from '../src/engine/runtime/runner.js';
import { CheckpointWeights, type WeightSource } from '../src/engine/runtime/weights.js';

const { values: args } = parseArgs({ options: { hidden: { type: 'string', default: '256' }, layers: { type: 'string', default: '12' }, dtype: { type: 'string', default: 'BF16' } } });
const hidden = Number(args.hidden);
const layers = Number(args.layers);
const dtype = args.dtype as 'F32' | 'F16' | 'BF16';

/** Teacher-forced scores of 8 text prompts of 64 tokens: one batch, like a first score of a variant. */
async function firstScore(weights: WeightSource): Promise<{ seconds: number; logProb: number[] }> {
  const runner = await HookedRunner.create({ weights });
  try {
    const inputs = Array.from({ length: 8 }, (_, b) => ({ inputIds: Array.from({ length: 64 }, (_, i) => (i * 7 + b * 13) % 250), answerIds: [5, 6, 7] }));
    const t0 = performance.now();
    const r = await runner.score(inputs);
    return { seconds: (performance.now() - t0) / 1000, logProb: r.logProb };
  } finally {
    await runner.release();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'frankenscope-bench-merge-'));
try {
  const trio = await writeTinyTrio(join(dir, 'trio'), { hidden, intermediate: hidden * 4, numLayers: layers, numHeads: 4, numKvHeads: 2, dtype });
  const recipe = presetRecipe('in_early__rl_middle_late', { sftId: 'sft', rlId: 'rl', numLayers: layers });
  const dirs = { sft: trio.sft, rl: trio.rl };

  let t0 = performance.now();
  const merged = await MergedWeights.open(recipe, dirs);
  const zero = await firstScore(merged);
  const zeroCopySeconds = (performance.now() - t0) / 1000;
  await merged.close();

  t0 = performance.now();
  const source = await MergedWeights.open(recipe, dirs);
  const exported = await exportVariant(source, join(dir, 'exported'), { dtype, copyFrom: trio.sft });
  await source.close();
  const exportSeconds = (performance.now() - t0) / 1000;
  const loaded = await CheckpointWeights.open(exported.dir);
  const viaFile = await firstScore(loaded);
  await loaded.close();
  const materialiseSeconds = (performance.now() - t0) / 1000;

  const maxLogProbDiff = Math.max(...zero.logProb.map((x, i) => Math.abs(x - viaFile.logProb[i]!)));
  process.stdout.write(JSON.stringify({
    machine: { cpus: os.cpus().length, loadavg: os.loadavg() },
    model: { hidden, layers, dtype, variant: 'in_early__rl_middle_late', exportedBytes: exported.totalBytes },
    zeroCopy: { secondsToFirstScore: zeroCopySeconds, scoreSeconds: zero.seconds },
    materialise: { secondsToFirstScore: materialiseSeconds, exportSeconds, scoreSeconds: viaFile.seconds },
    speedup: materialiseSeconds / zeroCopySeconds,
    maxLogProbDiff,
    note: 'both paths include session creation and weight reads; logProb differences come from rounding the merged tensors to the export dtype',
  }, null, 2) + '\n');
} finally {
  await rm(dir, { recursive: true, force: true });
}
