/**
 * What a run computes after the layers: logits, greedy generation, or
 * teacher-forced scoring, with their result types.
 */
import type { ModelInput } from './batch.js';

/** Logits at the last real position of each example ([B, V]) or at every position ([B, T, V], left-padded). */
export interface LogitsTask {
  kind: 'logits';
  /** ['last'] */
  positions?: 'last' | 'all';
}

/** Greedy decoding, or sampling at a temperature, with a KV cache. */
export interface GenerateTask {
  kind: 'generate';
  maxNewTokens: number;
  /** stop ids [config eos_token_id] */
  eosTokenIds?: readonly number[];
  /** 0 for greedy decoding, else sample from softmax(logits / temperature) [0] */
  temperature?: number;
  /** seed of the sampler (same seed, same batch, same tokens) [0] */
  seed?: number;
  /** ids never generated (e.g. the image placeholder, which needs pixels) [none] */
  suppressTokenIds?: readonly number[];
  /** return the prompt's last-position logits (those the first token is chosen from) as `firstLogits`, saving a separate forward pass [false] */
  keepFirstLogits?: boolean;
}

/** One pass over prompt + gold answer (`answerIds` of each input). */
export interface ScoreTask {
  kind: 'score';
}

/** What a run computes. */
export type Task = LogitsTask | GenerateTask | ScoreTask;

/** An example for scoring: prompt and gold answer ids. */
export interface ScoreInput extends ModelInput {
  answerIds: readonly number[];
}

/** Result of a {@link LogitsTask}. */
export interface LogitsResult {
  kind: 'logits';
  /** [B, V] or [B, T, V] */
  logits: Float32Array;
  dims: number[];
}

/** Result of a {@link GenerateTask}. */
export interface GenerateResult {
  kind: 'generate';
  /** generated ids per example, without the stop id */
  tokens: number[][];
  /** why each example stopped */
  finish: ('eos' | 'length')[];
  /** [B, V] last-position logits of the prompt, when `keepFirstLogits` asked for them */
  firstLogits?: Float32Array;
}

/** Result of a {@link ScoreTask}. */
export interface ScoreResult {
  kind: 'score';
  /** sum over answer tokens of log p(gold token | prefix), float64 */
  logProb: number[];
  /** per example, per answer token log-probabilities */
  tokenLogProbs: number[][];
  /** greedy argmax equals every gold token */
  exactMatch: boolean[];
}

/** The result type of a task type. */
export type TaskResult<T extends Task> = T extends LogitsTask ? LogitsResult : T extends GenerateTask ? GenerateResult : ScoreResult;

/** Index of the largest value of row `r` (lowest index on ties). */
export function argmaxRow(logits: Float32Array, r: number, V: number): number {
  let best = 0;
  let bestValue = logits[r * V]!;
  for (let j = 1; j < V; j++) {
    const x = logits[r * V + j]!;
    if (x > bestValue) [best, bestValue] = [j, x];
  }
  return best;
}

/**
 * Draws an index of row `r` from softmax(row / temperature) by inverting the
 * cumulative distribution at `u` in [0, 1), in float64.
 */
export function sampleRow(logits: Float32Array, r: number, V: number, temperature: number, u: number): number {
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[r * V + i]!);
  const weights = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += weights[i] = Math.exp((logits[r * V + i]! - max) / temperature);
  let target = u * sum;
  for (let i = 0; i < V; i++) {
    target -= weights[i]!;
    if (target < 0) return i;
  }
  // u·sum rounded up to the total: the last index with any weight
  for (let i = V - 1; i >= 0; i--) if (weights[i]! > 0) return i;
  return V - 1;
}

/** mulberry32: uniform numbers in [0, 1), seeded, so sampled rollouts repeat. */
export function uniformStream(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** log softmax(row r)[j] in float64. */
export function logSoftmaxAt(logits: Float32Array, r: number, V: number, j: number): number {
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[r * V + i]!);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += Math.exp(logits[r * V + i]! - max);
  return logits[r * V + j]! - max - Math.log(sum);
}

/** Checks a task; RangeError naming the bad field. */
export function validateTask(task: Task): void {
  if (task.kind === 'generate') {
    if (!Number.isInteger(task.maxNewTokens) || task.maxNewTokens < 1) throw new RangeError(`'maxNewTokens' must be a positive integer, got ${task.maxNewTokens}`);
    if (task.temperature !== undefined && !(task.temperature >= 0 && Number.isFinite(task.temperature))) throw new RangeError(`'temperature' must be a finite number >= 0, got ${task.temperature}`);
    if (task.seed !== undefined && !Number.isInteger(task.seed)) throw new RangeError(`'seed' must be an integer, got ${task.seed}`);
    for (const id of task.suppressTokenIds ?? []) if (!Number.isInteger(id) || id < 0) throw new RangeError(`'suppressTokenIds' holds ${id}, not a token id`);
  } else if (task.kind === 'logits') {
    if (task.positions !== undefined && task.positions !== 'last' && task.positions !== 'all') throw new RangeError(`'positions' must be 'last' or 'all', got ${JSON.stringify(task.positions)}`);
  } else if (task.kind !== 'score') {
    throw new RangeError(`'task.kind' must be 'logits', 'generate' or 'score', got ${JSON.stringify((task as { kind: unknown }).kind)}`);
  }
}
