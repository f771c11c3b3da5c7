/**
 * What the analyses share: opening a model in the worker, batching, the
 * clean (unintervened) answers, and progress.
 */
import { loadChatTemplate } from '../model/chat.js';
import { TextTokenizer } from '../model/tokenizer.js';
import type { JobContext } from '../runtime/job-protocol.js';
import type { HookedRunner, StepControl } from '../runtime/runner.js';
import { scoreExample } from '../scoring/index.js';
import { InputBuilder } from './prepare.js';
import type { AnalysisOptions, AnalysisProgress, ResolvedExample } from './types.js';

export interface OpenModel {
  runner: HookedRunner;
  inputs: InputBuilder;
}

/** The worker's cached runner for a checkpoint directory, with its tokenizer (and chat template when `chat`). */
export async function openModel(dir: string, context: JobContext, chat = false): Promise<OpenModel> {
  const runner = await context.openRunner(dir);
  const tokenizer = await TextTokenizer.load(dir);
  return { runner, inputs: new InputBuilder(runner.config, tokenizer, chat ? await loadChatTemplate(dir) : null) };
}

/** Checks layers against the model and returns them sorted, 0-based. */
export function checkLayers(options: AnalysisOptions, numLayers: number): number[] {
  const layers = options.layers.length ? [...new Set(options.layers)].sort((a, b) => a - b) : Array.from({ length: numLayers }, (_, i) => i);
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= numLayers) throw new RangeError(`layer ${l + 1} is outside the model's LLM layers 1..${numLayers}`);
  }
  return layers;
}

/** Counts work units and posts progress; also the cancellation point. */
export class ProgressCounter {
  #done = 0;
  constructor(private readonly context: JobContext, private readonly total: number) {}

  async step(message: string, units = 1): Promise<void> {
    this.#done += units;
    this.context.progress({ done: this.#done, total: this.total, message } satisfies AnalysisProgress);
    await this.context.checkCancelled();
  }

  /**
   * Control for the generation inside the next unit of work: cancelling
   * stops it between decode steps, and progress moves within the unit
   * (every PARTIAL_EVERY steps) so a long generation does not look stalled.
   */
  generation(message: string): StepControl {
    return {
      signal: this.context.signal,
      onStep: (step, max) => {
        if (step % PARTIAL_EVERY !== 0 || step >= max) return;
        this.context.progress({ done: this.#done + step / max, total: this.total, message: `${message}: token ${step}/${max}` } satisfies AnalysisProgress);
      },
    };
  }
}

/** Decode steps between two progress reports inside a generation. */
const PARTIAL_EVERY = 16;

/** Whether a generated answer is right for the example (target gold, or the source gold of a pair). */
export function judge(example: ResolvedExample, answer: string, against: 'target' | 'source' = 'target'): boolean {
  return scoreExample(example, answer, against).correct;
}
