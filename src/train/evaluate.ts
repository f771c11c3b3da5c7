/**
 * Greedy accuracy of a model on engine prompts, per question kind, for the
 * training curves and the held-out evaluation of the demo trio.
 */
import { bootstrapProportion, type Interval } from '../engine/scoring/index.js';
import type { HookedRunner } from '../engine/runtime/index.js';
import { exactMatchReward, type EnginePrompt } from './prompts.js';

/** Accuracy of one group of prompts with its 95% bootstrap interval. */
export interface GroupAccuracy {
  n: number;
  correct: number;
  accuracy: number;
  low: number;
  high: number;
}

/** What {@link greedyAccuracy} returns. */
export interface Evaluation {
  /** per prompt, in order */
  outcomes: boolean[];
  /** per prompt, the generated text */
  answers: string[];
  all: GroupAccuracy;
  byKind: Record<string, GroupAccuracy>;
}

/** Options of {@link greedyAccuracy}. */
export interface EvaluateOptions {
  maxNewTokens: number;
  eosTokenId: number;
  decode: (ids: readonly number[]) => string;
  /** ids never generated [none] */
  suppressTokenIds?: readonly number[];
  /** prompts per forward batch [32] */
  batchSize?: number;
  /** bootstrap seed [0] */
  seed?: number;
}

function summarise(outcomes: readonly boolean[], seed: number): GroupAccuracy {
  const correct = outcomes.filter(Boolean).length;
  const ci: Interval = bootstrapProportion(outcomes, { seed });
  return { n: outcomes.length, correct, accuracy: correct / outcomes.length, low: ci.low ?? 0, high: ci.high ?? 0 };
}

/** Greedy answers to `prompts`, scored by each prompt's rule. Batches group prompts with and without images apart. */
export async function greedyAccuracy(runner: HookedRunner, prompts: readonly EnginePrompt[], options: EvaluateOptions): Promise<Evaluation> {
  if (prompts.length === 0) throw new RangeError("'prompts' is empty");
  const batchSize = options.batchSize ?? 32;
  const answers = new Array<string>(prompts.length);
  const order = prompts.map((_, i) => i).sort((a, b) => Number(prompts[a]!.pixels === undefined) - Number(prompts[b]!.pixels === undefined) || a - b);
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const out = await runner.generate(
      idx.map((i) => ({ inputIds: prompts[i]!.inputIds, ...(prompts[i]!.pixels ? { pixels: prompts[i]!.pixels } : {}) })),
      { maxNewTokens: options.maxNewTokens, eosTokenIds: [options.eosTokenId], suppressTokenIds: options.suppressTokenIds },
    );
    idx.forEach((i, k) => (answers[i] = options.decode(out.tokens[k]!)));
  }
  const outcomes = prompts.map((p, i) => exactMatchReward(p, answers[i]!) === 1);
  const kinds = [...new Set(prompts.map((p) => p.kind))].sort();
  const byKind: Record<string, GroupAccuracy> = {};
  for (const kind of kinds) byKind[kind] = summarise(outcomes.filter((_, i) => prompts[i]!.kind === kind), options.seed ?? 0);
  return { outcomes, answers, all: summarise(outcomes, options.seed ?? 0), byKind };
}
