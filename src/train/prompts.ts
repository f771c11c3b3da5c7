/**
 * World examples as prompts for the ONNX engine (rollouts and greedy
 * evaluation while training): prompt ids with the visual span, normalised
 * pixels and the gold answer with its scoring rule.
 */
import { buildPrompt, type PromptTokenizer } from '../engine/model/prompt.js';
import type { ProbeAnswer, ProbeTask } from '../engine/probes/index.js';
import { isCorrect } from '../engine/scoring/index.js';
import { renderScene, type WorldExample } from '../world/index.js';
import type { TrainConfig } from './config.js';
import { modelConfigOf, normalisePixels } from './data.js';

/** A question the policy answers by generation. */
export interface EnginePrompt {
  id: string;
  kind: string;
  /** prompt ids, visual span included */
  inputIds: number[];
  /** normalised image [C, h, w], or undefined for text-only questions */
  pixels?: Float32Array;
  task: ProbeTask;
  answer: ProbeAnswer;
}

/** Engine prompts of world examples (images rendered and resized to the model's size). */
export function enginePrompts(examples: readonly WorldExample[], config: TrainConfig, tokenizer: PromptTokenizer): EnginePrompt[] {
  const model = modelConfigOf(config);
  return examples.map((e) => {
    const built = buildPrompt(e.prompt, { tokenizer, config: model, hasImage: e.scene !== null });
    const prompt: EnginePrompt = { id: e.id, kind: e.kind, inputIds: built.ids, task: e.task, answer: e.answer };
    if (e.scene !== null) prompt.pixels = normalisePixels(renderScene(e.scene), model);
    return prompt;
  });
}

/** The verifiable reward: 1 when the generated text answers correctly under the example's rule, else 0. */
export function exactMatchReward(prompt: EnginePrompt, completion: string): number {
  return isCorrect(prompt.task, completion, prompt.answer) ? 1 : 0;
}
