/**
 * Reused memory under the weight budget (float32-pool.ts): the arrays of a
 * layer the cache dropped go to the next read of that shape, but only once
 * nobody holds them. Checked on the cache's own rules (what escaped is never
 * reused, a held entry waits for its release) and end to end: a model run
 * under a budget smaller than it reuses arrays and still computes, bit for
 * bit, what a run holding every layer computes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearFloat32Pool, float32PoolStats, recycleFloat32, takeFloat32 } from '../../src/engine/checkpoint/float32-pool.js';
import { writeRandomHubCheckpoint } from '../../src/engine/fixtures/random-checkpoint.js';
import { MergedWeights } from '../../src/engine/merge/merged-weights.js';
import type { SessionPool } from '../../src/engine/runtime/ort-sessions.js';
import { HookedRunner } from '../../src/engine/runtime/runner.js';
import { WeightCache } from '../../src/engine/runtime/weight-cache.js';
import { CheckpointWeights, MemoryWeights, type WeightSource } from '../../src/engine/runtime/weights.js';
import { bitwiseEqual, testPool } from './engine-fixtures.js';

/** Big enough to be pooled (1 MB and up). */
const N = 1 << 19;
const arrays = (v: Float32Array[]) => v;
const bytesOf = (v: Float32Array[]) => v.reduce((n, a) => n + a.byteLength, 0);

beforeEach(() => clearFloat32Pool());

describe('the pool', () => {
  it('past its cap lets the arrays given back longest ago go first', () => {
    const [a, b, c] = [new Float32Array(N), new Float32Array(N), new Float32Array(N)];
    recycleFloat32([a, b], 2 * 4 * N);
    recycleFloat32([c], 2 * 4 * N);
    expect(float32PoolStats().bytes).toBe(2 * 4 * N);
    const taken = [takeFloat32(N), takeFloat32(N), takeFloat32(N)];
    expect(taken.map((t) => [a, b, c].findIndex((x) => x === t))).toEqual([2, 1, -1]);
  });
});

describe('the weight cache gives dropped arrays back', () => {
  it('once dropped and released, and the next read of that length gets the same memory', async () => {
    const cache = new WeightCache(2 * 4 * N);
    const held = { a: [new Float32Array(N)], b: [new Float32Array(N)] };
    for (const key of ['a', 'b'] as const) (await cache.lease(key, async () => held[key], bytesOf, 'm', arrays)).release();
    // both kept: nothing to reuse yet
    expect(float32PoolStats().bytes).toBe(0);
    (await cache.lease('c', async () => [new Float32Array(N)], bytesOf, 'm', arrays)).release();
    // c pushed a out
    expect(cache.bytes).toBe(2 * 4 * N);
    expect(float32PoolStats().bytes).toBe(4 * N);
    expect(takeFloat32(N) === held.a[0]).toBe(true);
    expect(float32PoolStats().bytes).toBe(0);
  });

  it('makes room for an entry read before ahead of reading it, so the read lands in what that frees', async () => {
    const cache = new WeightCache(2 * 4 * N);
    // a loader that reads into pooled memory, as readAsFloat32 does
    const read = async () => [takeFloat32(N)];
    const got: Record<string, Float32Array> = {};
    for (const key of ['a', 'b', 'c']) {
      const lease = await cache.lease(key, read, bytesOf, 'm', arrays);
      got[key] = lease.value[0]!;
      lease.release();
    }
    // c pushed a out (a's memory waits in the pool); a is asked again: b goes before the read, and the read lands in b's memory, the newest in the pool
    const again = await cache.lease('a', read, bytesOf, 'm', arrays);
    expect(again.value[0] === got.b).toBe(true);
    again.release();
    expect(cache.bytes).toBe(2 * 4 * N);
  });

  it('not while a holder still uses them', async () => {
    const cache = new WeightCache(0); // nothing is kept: dropped as soon as it is loaded
    const held = [new Float32Array(N)];
    const lease = await cache.lease('a', async () => held, bytesOf, 'm', arrays);
    await Promise.resolve();
    expect(float32PoolStats().bytes).toBe(0);
    expect(takeFloat32(N) === held[0]).toBe(false);
    lease.release();
    await Promise.resolve();
    expect(takeFloat32(N) === held[0]).toBe(true);
  });

  it('never when handed out without a lease, or not declared reusable, or a view of a larger buffer', async () => {
    const cache = new WeightCache(4 * N); // one entry fits: each new one drops the one before
    await cache.get('a', async () => [new Float32Array(N)], bytesOf, 'm');
    (await cache.lease('a', async () => [new Float32Array(N)], bytesOf, 'm', arrays)).release();
    (await cache.lease('b', async () => [new Float32Array(N)], bytesOf, 'm')).release();
    const whole = new Float32Array(2 * N);
    (await cache.lease('c', async () => [whole.subarray(0, N)], bytesOf, 'm', arrays)).release();
    (await cache.lease('d', async () => [new Float32Array(N)], bytesOf, 'm')).release();
    await Promise.resolve();
    // a, b and c were dropped: a had escaped, b was not reusable, c is a view
    expect(cache.bytes).toBe(4 * N);
    expect(float32PoolStats().bytes).toBe(0);
  });

  it('holds at most the largest entry seen, and lets it all go with the last model', async () => {
    const cache = new WeightCache(4 * N);
    for (const key of ['a', 'b', 'c']) (await cache.lease(key, async () => [new Float32Array(N)], bytesOf, 'm', arrays)).release();
    await Promise.resolve();
    expect(float32PoolStats().bytes).toBe(4 * N);
    cache.dropOwner('m');
    expect(float32PoolStats().bytes).toBe(0);
  });
});

describe('a model under a budget smaller than it', () => {
  // 128 x 2048 float32 = 1 MB: the MLP weights are pooled
  const options = { family: 'qwen2_5_vl' as const, hidden: 128, intermediate: 2048, numLayers: 4, numHeads: 4, numKvHeads: 2, mropeSection: [4, 6, 6] as [number, number, number], visionDepth: 1, tied: true };
  const input = { inputIds: [9, 10, 11, 12, 13, 14, 15, 16] };
  let pool: SessionPool;
  let dir: string;
  beforeAll(async () => {
    pool = await testPool();
    dir = await mkdtemp(join(tmpdir(), 'weight-reuse-'));
    await writeRandomHubCheckpoint(join(dir, 'in'), options, 'text', 11);
    await writeRandomHubCheckpoint(join(dir, 'rl'), options, 'text', 12);
  }, 120_000);
  afterAll(async () => {
    await pool.release();
    await rm(dir, { recursive: true, force: true });
  });

  /** The same model held in memory: never pooled (no stored bytes), so an independent reference. */
  async function inMemory(source: WeightSource): Promise<MemoryWeights> {
    const tensors = new Map<string, Float32Array>();
    for (const name of source.tensorNames) tensors.set(name, (await source.getFloat32(name)).slice());
    return new MemoryWeights(source.config, tensors);
  }

  async function outputs(weights: WeightSource, cache: WeightCache) {
    // the head in one piece, larger than the budget: never kept, so it does not push the layers out
    const runner = await HookedRunner.create({ weights, pool, cache, headChunkRows: 151936 });
    try {
      // passes after the first find some layers kept and the others read into reused memory
      const logits = [];
      for (let pass = 0; pass < 3; pass++) logits.push((await runner.forward([input], { positions: 'all' })).logits);
      const tokens = (await runner.generate([input], { maxNewTokens: 4, eosTokenIds: [] })).tokens[0]!;
      return { logits, tokens };
    } finally {
      await runner.release();
    }
  }

  const splice = { base: 'in', donors: ['rl'], operations: [{ op: 'splice' as const, model: 'rl', layers: { from: 2, to: 4 } }] };
  const sources: [string, () => Promise<WeightSource & { close(): Promise<void> }>][] = [
    ['a checkpoint', () => CheckpointWeights.open(join(dir, 'in'))],
    ['a splice of two checkpoints scored zero-copy', () => MergedWeights.open(splice, { in: join(dir, 'in'), rl: join(dir, 'rl') })],
  ];
  it.each(sources)('%s reuses dropped layers memory and gives the logits and tokens of a run holding every layer', async (_, open) => {
    const source = await open();
    try {
      const whole = await outputs(await inMemory(source), new WeightCache(Infinity));
      const before = float32PoolStats().reuses;
      // two or three of the four decoder layers (3.4 MB widened each) fit: some stay, the others are read into reused memory
      const small = await outputs(source, new WeightCache(9e6));
      expect(float32PoolStats().reuses - before).toBeGreaterThan(20);
      expect(small.logits.map((l, pass) => bitwiseEqual(l, whole.logits[pass]!))).toEqual([true, true, true]);
      expect(small.tokens).toEqual(whole.tokens);
    } finally {
      await source.close();
    }
  }, 120_000);
});
