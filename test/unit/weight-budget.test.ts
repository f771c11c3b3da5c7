/**
 * The weight-memory budget (FRANKENSCOPE_WEIGHT_MEMORY_GB): widened weights
 * of every model share one bounded LRU cache; a budget smaller than the model
 * re-reads layers but computes the same logits bit for bit, for a checkpoint
 * and for a zero-copy splice of two; and `frankenscope run` in a child
 * process stays within the budget plus a fixed margin where an unbounded run
 * holds the whole widened model.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QWEN_VL_TOKEN_IDS } from '../../src/engine/fixtures/hub-qwen-vl.js';
import { writeRandomHubCheckpoint } from '../../src/engine/fixtures/random-checkpoint.js';
import { MergedWeights } from '../../src/engine/merge/merged-weights.js';
import type { ModelInput } from '../../src/engine/runtime/batch.js';
import type { SessionPool } from '../../src/engine/runtime/ort-sessions.js';
import { ModelWorker } from '../../src/engine/runtime/model-worker.js';
import { HookedRunner } from '../../src/engine/runtime/runner.js';
import { DEFAULT_WEIGHT_MEMORY_GB, WeightCache, weightMemoryBudgetBytes } from '../../src/engine/runtime/weight-cache.js';
import { CheckpointWeights, type WeightSource } from '../../src/engine/runtime/weights.js';
import { testPool } from './engine-fixtures.js';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'frankenscope.js');
const { visionStart: S, visionEnd: E, imagePad: I } = QWEN_VL_TOKEN_IDS;

let pool: SessionPool;
let dir: string;
beforeAll(async () => {
  pool = await testPool();
  dir = await mkdtemp(join(tmpdir(), 'weight-budget-'));
});
afterAll(async () => {
  await pool.release();
  await rm(dir, { recursive: true, force: true });
});

/** Counts the tensors a source is asked for. */
function counting(source: WeightSource): WeightSource & { reads: number } {
  const counted = {
    config: source.config,
    tensorNames: source.tensorNames,
    reads: 0,
    getFloat32(name: string) {
      counted.reads++;
      return source.getFloat32(name);
    },
    getFloat32Rows(name: string, start: number, count: number) {
      counted.reads++;
      return source.getFloat32Rows!(name, start, count);
    },
  };
  return counted;
}

describe('WeightCache', () => {
  const load = (bytes: number, calls: string[], key: string) => () => {
    calls.push(key);
    return Promise.resolve(new Float32Array(bytes / 4));
  };
  const size = (a: Float32Array) => a.byteLength;

  it('drops the least recently used entries past the budget and loads them again on demand', async () => {
    const cache = new WeightCache(100);
    const calls: string[] = [];
    await cache.get('a', load(40, calls, 'a'), size);
    await cache.get('b', load(40, calls, 'b'), size);
    await cache.get('a', load(40, calls, 'a'), size); // a is now the most recent
    await cache.get('c', load(40, calls, 'c'), size); // over 100: b goes
    expect(cache.bytes).toBe(80);
    await cache.get('a', load(40, calls, 'a'), size);
    await cache.get('b', load(40, calls, 'b'), size);
    expect(calls).toEqual(['a', 'b', 'c', 'b']);
    expect(cache.bytes).toBeLessThanOrEqual(100);
  });

  it('hands out a value larger than the budget without keeping it or evicting for it; dropPrefix frees a model', async () => {
    const cache = new WeightCache(100);
    const calls: string[] = [];
    await cache.get('m1:x', load(40, calls, 'x'), size);
    expect((await cache.get('big', load(400, calls, 'big'), size)).length).toBe(100);
    expect(cache.bytes).toBe(40); // x stays: the big value was never going to fit
    await cache.get('m1:x', load(40, calls, 'x'), size);
    await cache.get('m2:y', load(40, calls, 'y'), size);
    cache.dropPrefix('m1:');
    expect(cache.bytes).toBe(40);
    await cache.get('m1:x', load(40, calls, 'x'), size);
    expect(calls).toEqual(['x', 'big', 'y', 'x']);
  });

  /** Loads of each pass over `keys`, in order, `passes` times. */
  async function scanLoads(cache: WeightCache, keys: readonly string[], passes: number, bytes: number): Promise<number[]> {
    const perPass: number[] = [];
    for (let p = 0; p < passes; p++) {
      const calls: string[] = [];
      for (const k of keys) await cache.get(k, load(bytes, calls, k), size);
      perPass.push(calls.length);
      expect(cache.bytes).toBeLessThanOrEqual(cache.maxBytes);
    }
    return perPass;
  }

  it('on a cyclic scan larger than the budget keeps a stable part and reads only the excess each pass', async () => {
    // 8 layers of 40 bytes, room for 5: least-recently-used would read all 8 on every pass
    const keys = Array.from({ length: 8 }, (_, i) => `layer.${i}`);
    const perPass = await scanLoads(new WeightCache(200), keys, 6, 40);
    expect(perPass.slice(2)).toEqual([3, 3, 3, 3]);
  });

  it('lets a new scan displace one that stopped', async () => {
    const cache = new WeightCache(160);
    const a = ['a0', 'a1', 'a2', 'a3'];
    const b = ['b0', 'b1', 'b2', 'b3'];
    expect(await scanLoads(cache, a, 3, 40)).toEqual([4, 0, 0]);
    const perPass = await scanLoads(cache, b, 4, 40);
    expect(perPass.at(-1)).toBe(0);
  });

  it('reads the budget from FRANKENSCOPE_WEIGHT_MEMORY_GB', () => {
    expect(weightMemoryBudgetBytes({})).toBe(DEFAULT_WEIGHT_MEMORY_GB * 1e9);
    expect(weightMemoryBudgetBytes({ FRANKENSCOPE_WEIGHT_MEMORY_GB: '2' })).toBe(2e9);
    expect(weightMemoryBudgetBytes({ FRANKENSCOPE_WEIGHT_MEMORY_GB: '0.25' })).toBe(0.25e9);
    expect(() => weightMemoryBudgetBytes({ FRANKENSCOPE_WEIGHT_MEMORY_GB: 'lots' })).toThrow(/FRANKENSCOPE_WEIGHT_MEMORY_GB must be a number/);
    expect(() => weightMemoryBudgetBytes({ FRANKENSCOPE_WEIGHT_MEMORY_GB: '-1' })).toThrow(/>= 0/);
  });
});

describe('a budget smaller than the model', () => {
  const options = { family: 'qwen2_5_vl' as const, hidden: 64, intermediate: 128, numLayers: 4, numHeads: 4, numKvHeads: 2, mropeSection: [2, 3, 3] as [number, number, number], visionDepth: 2, tied: true };
  const grid = { t: 1, h: 4, w: 4 };
  let s = 7;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const input: ModelInput = {
    inputIds: [9, 10, S, ...new Array<number>(4).fill(I), E, 11, 12, 13],
    images: [{ grid, patches: Float32Array.from({ length: 16 * 3 * 2 * 14 * 14 }, () => (rand() - 0.5) * 4) }],
  };

  /** Logits and greedy tokens of one checkpoint source under a cache. */
  async function outputs(weights: WeightSource, cache: WeightCache, headChunkRows?: number) {
    const runner = await HookedRunner.create({ weights, pool, cache, headChunkRows });
    try {
      const logits = (await runner.forward([input], { positions: 'all' })).logits;
      const tokens = (await runner.generate([input], { maxNewTokens: 4, eosTokenIds: [] })).tokens[0]!;
      return { logits, tokens };
    } finally {
      await runner.release();
    }
  }

  it('re-reads layers but gives identical logits and tokens, within its bytes', async () => {
    const path = join(dir, 'vl');
    await writeRandomHubCheckpoint(path, options, 'vl', 3);
    const ck = await CheckpointWeights.open(path);
    try {
      const unbounded = counting(ck);
      const whole = await outputs(unbounded, new WeightCache(Infinity), 20000);
      const budget = new WeightCache(150_000); // a decoder layer widened is ~131 KB, the head pieces 5 MB
      const bounded = counting(ck);
      const small = await outputs(bounded, budget, 20000);
      expect(small.logits).toEqual(whole.logits);
      expect(small.tokens).toEqual(whole.tokens);
      // the unbounded run read each tensor once; the budgeted one read them again on every pass
      expect(bounded.reads).toBeGreaterThan(3 * unbounded.reads);
      expect(budget.bytes).toBeLessThanOrEqual(150_000);
      // the head in vocabulary pieces computes what one piece computes
      const onePiece = await outputs(ck, new WeightCache(Infinity), 151936);
      expect(onePiece.logits).toEqual(whole.logits);
    } finally {
      await ck.close();
    }
  });

  it('scores a splice of two checkpoints zero-copy under a budget shared with both models, with identical logits', async () => {
    const a = join(dir, 'in');
    const b = join(dir, 'rl');
    await writeRandomHubCheckpoint(a, options, 'vl', 4);
    await writeRandomHubCheckpoint(b, options, 'vl', 5);
    const recipe = { base: 'in', donors: ['rl'], operations: [{ op: 'splice' as const, model: 'rl', layers: { from: 2, to: 4 } }] };
    const merged = await MergedWeights.open(recipe, { in: a, rl: b });
    try {
      const whole = await outputs(merged, new WeightCache(Infinity));
      const budget = new WeightCache(150_000);
      const plain = await CheckpointWeights.open(a);
      // another model open on the same budget: together they stay within it
      const other = await HookedRunner.create({ weights: plain, pool, cache: budget });
      await other.forward([input]);
      const small = await outputs(merged, budget);
      await other.forward([input]);
      expect(small.logits).toEqual(whole.logits);
      expect(small.tokens).toEqual(whole.tokens);
      expect(budget.bytes).toBeLessThanOrEqual(150_000);
      await other.release();
      await plain.close();
    } finally {
      await merged.close();
    }
  });
});

describe('a splice next to the models it is made of', () => {
  const options = { family: 'qwen2_5_vl' as const, hidden: 64, intermediate: 128, numLayers: 4, numHeads: 4, numKvHeads: 2, mropeSection: [2, 3, 3] as [number, number, number], visionDepth: 2, tied: true };
  const input: ModelInput = { inputIds: [9, 10, 11, 12, 13, 14] };

  /** Counts whole-tensor reads (rows are read on every lookup and never kept). */
  function wholeReads(source: CheckpointWeights): WeightSource & { reads: string[] } {
    const counted = {
      config: source.config,
      tensorNames: source.tensorNames,
      reads: [] as string[],
      getFloat32(name: string) {
        counted.reads.push(name);
        return source.getFloat32(name);
      },
      getFloat32Rows: (name: string, start: number, count: number) => source.getFloat32Rows(name, start, count),
      storedKey: (name: string) => source.storedKey(name),
    };
    return counted;
  }

  it('reads only what neither open model has widened, and frees shared layers with the last model', async () => {
    const a = join(dir, 'share-in');
    const b = join(dir, 'share-rl');
    await writeRandomHubCheckpoint(a, options, 'text', 6);
    await writeRandomHubCheckpoint(b, options, 'text', 7);
    const [inW, rlW] = [await CheckpointWeights.open(a), await CheckpointWeights.open(b)];
    const recipe = { base: 'in', donors: ['rl'], operations: [{ op: 'splice' as const, model: 'rl', layers: { from: 2, to: 4 } }] };
    try {
      const alone = await MergedWeights.create({ recipe, models: { in: inW, rl: rlW } });
      const fresh = await HookedRunner.create({ weights: alone, pool, cache: new WeightCache(Infinity) });
      const expected = (await fresh.forward([input], { positions: 'all' })).logits;
      await fresh.release();

      const cache = new WeightCache(Infinity);
      const inRunner = await HookedRunner.create({ weights: inW, pool, cache });
      await inRunner.forward([input]);
      const held = cache.bytes;
      const [inCounted, rlCounted] = [wholeReads(inW), wholeReads(rlW)];
      const splice = await HookedRunner.create({ weights: await MergedWeights.create({ recipe, models: { in: inCounted, rl: rlCounted } }), pool, cache });
      const logits = (await splice.forward([input], { positions: 'all' })).logits;
      expect(logits).toEqual(expected);
      // IN's layers 0-1 and head were widened for IN already; RL's layers 2-3 had not been
      expect(inCounted.reads).toEqual([]);
      expect(new Set(rlCounted.reads.map((n) => /layers\.(\d+)\./.exec(n)?.[1]))).toEqual(new Set(['2', '3']));
      // IN's layers 2-3 are IN's alone: releasing IN frees them (as many bytes as RL's 2-3 added), and what the splice shares stays
      const rlLayers = cache.bytes - held;
      expect(rlLayers).toBeGreaterThan(0);
      await inRunner.release();
      expect(cache.bytes).toBe(held);
      await splice.release();
      expect(cache.bytes).toBe(0);
    } finally {
      await inW.close();
      await rlW.close();
    }
  });
});

describe('the model worker', () => {
  it('takes its budget from FRANKENSCOPE_WEIGHT_MEMORY_GB and keeps its analyses within it', async () => {
    const path = join(dir, 'worker');
    await writeRandomHubCheckpoint(path, { family: 'qwen2_5_vl', hidden: 64, intermediate: 128, numLayers: 4, numHeads: 4, numKvHeads: 2, mropeSection: [2, 3, 3], tied: true }, 'text', 9);
    const before = process.env.FRANKENSCOPE_WEIGHT_MEMORY_GB;
    process.env.FRANKENSCOPE_WEIGHT_MEMORY_GB = '0.0002'; // 200 KB: below the 39 MB head, above one 131 KB decoder layer
    const worker = await ModelWorker.create({ threads: 1 });
    try {
      const r = await worker.run<{ maxBytes: number; bytes: number }>(new URL('./engine-worker-analysis.ts', import.meta.url), 'weightBudget', { dir: path });
      expect(r.maxBytes).toBe(200_000);
      expect(r.bytes).toBeGreaterThan(0);
      expect(r.bytes).toBeLessThanOrEqual(200_000);
    } finally {
      await worker.release();
      if (before === undefined) delete process.env.FRANKENSCOPE_WEIGHT_MEMORY_GB;
      else process.env.FRANKENSCOPE_WEIGHT_MEMORY_GB = before;
    }
  });
});

describe('frankenscope run under a budget, in a child process', () => {
  // ~0.8 GB BF16, 1.7 GB widened: far more than the 0.2 GB budget
  const shape = { family: 'qwen2_5_vl' as const, tied: true, hidden: 1024, intermediate: 4096, numLayers: 16, numHeads: 8, numKvHeads: 2, mropeSection: [16, 24, 24] as [number, number, number] };
  const WIDENED = 4 * (151936 * 1024 + 16 * (2 * 1024 * 1024 + 2 * 256 * 1024 + 3 * 4096 * 1024));
  const BUDGET_GB = 0.2;
  /** what the process needs besides widened weights (node, tsx, onnxruntime, activations, one layer and one head piece in flight) */
  const MARGIN = 0.8e9;

  async function cli(path: string, gb: number) {
    const { stdout } = await run(process.execPath, [BIN, 'run', '--model', path, '--prompt', 'How many shapes are there?', '--max-new-tokens', '2', '--json'], {
      timeout: 240_000,
      maxBuffer: 64 << 20,
      env: { ...process.env, FRANKENSCOPE_WEIGHT_MEMORY_GB: String(gb), FRANKENSCOPE_ENGINE_THREADS: '2' },
    });
    return JSON.parse(stdout) as { lastLogits: number[]; generatedTokenIds: number[]; peakRssBytes: number; timings: Record<string, number> };
  }

  it('peaks within budget + a fixed margin where an unbounded run holds the widened model, with identical logits', async () => {
    const path = join(dir, 'text');
    await writeRandomHubCheckpoint(path, shape, 'text', 11);
    const bounded = await cli(path, BUDGET_GB);
    const unbounded = await cli(path, 100);
    expect(bounded.lastLogits).toEqual(unbounded.lastLogits);
    expect(bounded.generatedTokenIds).toEqual(unbounded.generatedTokenIds);
    expect(bounded.peakRssBytes).toBeLessThan(BUDGET_GB * 1e9 + MARGIN);
    // the margin is not so wide that holding the model would pass
    expect(unbounded.peakRssBytes).toBeGreaterThan(WIDENED);
    expect(Object.keys(bounded.timings).sort()).toEqual(['decode', 'load', 'prefill', 'vision']);
  }, 300_000);
});
