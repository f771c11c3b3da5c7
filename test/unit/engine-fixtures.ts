/**
 * Helpers for the engine tests: tiny generated models held in memory, runners
 * over them, deterministic inputs and tensor comparison.
 */
import { generateTinyModel, type TinyModel, type TinyModelOptions } from '../../src/engine/fixtures/tiny-model.js';
import type { ModelInput } from '../../src/engine/runtime/batch.js';
import { SessionPool } from '../../src/engine/runtime/ort-sessions.js';
import { HookedRunner } from '../../src/engine/runtime/runner.js';
import { MemoryWeights } from '../../src/engine/runtime/weights.js';

/** A tiny model, its in-memory weights and a runner over them. */
export interface TinySetup {
  model: TinyModel;
  weights: MemoryWeights;
  /** name -> data, for the reference */
  tensorMap: Map<string, Float32Array>;
  runner: HookedRunner;
}

/** Builds a runner over a generated tiny model, sharing `pool`. */
export async function tinySetup(pool: SessionPool, options: TinyModelOptions = {}): Promise<TinySetup> {
  const model = generateTinyModel(options);
  const tensorMap = new Map([...model.tensors].map(([k, t]) => [k, t.data]));
  const weights = new MemoryWeights(model.modelConfig, tensorMap);
  const runner = await HookedRunner.create({ weights, pool });
  return { model, weights, tensorMap, runner };
}

/** A shared pool with the thread count of the test machine. */
export function testPool(): Promise<SessionPool> {
  return SessionPool.create({ threads: 2 });
}

/** Deterministic pseudo-random numbers in [0, 1) (xorshift32). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Text token ids in [lo, hi) avoiding the special ids of the config. */
export function textIds(model: TinyModel, n: number, seed: number): number[] {
  const c = model.modelConfig;
  const special = new Set([c.imageTokenId, c.visionStartTokenId, c.visionEndTokenId, ...c.eosTokenIds, c.bosTokenId]);
  const rand = seeded(seed);
  const out: number[] = [];
  while (out.length < n) {
    const id = Math.floor(rand() * c.vocabSize);
    if (!special.has(id)) out.push(id);
  }
  return out;
}

/** A normalised random image [C, h, w] for the model's vision config. */
export function randomPixels(model: TinyModel, seed: number): Float32Array {
  const v = model.modelConfig.vision!;
  const rand = seeded(seed);
  return Float32Array.from({ length: v.inChannels * v.fixed!.imageSize[0] * v.fixed!.imageSize[1] }, () => (rand() - 0.5) * 4);
}

/** An image prompt: prefix text, vision start, n_v image tokens, vision end, suffix text. */
export function imagePrompt(model: TinyModel, before: number, after: number, seed: number): ModelInput {
  const c = model.modelConfig;
  const span = [c.visionStartTokenId!, ...new Array<number>(c.vision!.fixed!.numVisualTokens).fill(c.imageTokenId!), c.visionEndTokenId!];
  return { inputIds: [...textIds(model, before, seed), ...span, ...textIds(model, after, seed + 1)], pixels: randomPixels(model, seed + 2) };
}

/** Largest |a - b| and largest |b| over two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { diff, scale };
}

/** True when two float arrays hold the same bits (a plain loop: toEqual on a million floats takes seconds). */
export function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
