/**
 * Reasoning localization by zero ablation (METHOD.md 1b): layer L is
 * replaced by the identity on the residual stream (attention and MLP outputs
 * zero, the skip connection kept), and accuracy is measured against the gold
 * answers, with its drop from the unablated accuracy. Runs inside the model worker.
 */
import type { JobContext } from '../runtime/job-protocol.js';
import { zeroAblation } from '../runtime/interventions.js';
import { answersEqual } from '../scoring/index.js';
import { checkLayers, judge, openModel, ProgressCounter } from './common.js';
import { pairedDifferenceRows, proportionRows, type Tagged } from './effects.js';
import { chunks } from './prepare.js';
import type { AnalysisOptions, AnalysisResult, ExampleOutcome, ResolvedExample } from './types.js';

export interface LocalizeReasoningInput {
  modelDir: string;
  examples: ResolvedExample[];
  options: AnalysisOptions;
}

export async function localizeReasoning(input: LocalizeReasoningInput, context: JobContext): Promise<AnalysisResult> {
  const { options } = input;
  const model = await openModel(input.modelDir, context, input.options.chat);
  const layers = checkLayers(options, model.runner.config.numLayers);
  const batches = chunks(input.examples, options.batchSize);
  const progress = new ProgressCounter(context, batches.length * (layers.length + 1));

  const exampleResults: ExampleOutcome[] = [];
  const clean: Tagged<boolean>[] = [];
  const ablated = new Map<number, { correct: Tagged<boolean>[]; drop: Tagged<[boolean, boolean]>[] }>(layers.map((l) => [l, { correct: [], drop: [] }]));

  for (const [bi, batch] of batches.entries()) {
    const prompts = await Promise.all(batch.map((e) => model.inputs.input(e, e.targetImagePath ? 'target' : 'none')));
    const outcomes = new Map<number, { answer: string | null; correct: boolean; score: number | null }[]>();
    let base: { answer: string | null; correct: boolean; score: number | null }[];
    if (options.scoring === 'generate') {
      const clean0 = await model.runner.clean(prompts, { kind: 'generate', maxNewTokens: options.maxNewTokens }, progress.generation(`batch ${bi + 1}/${batches.length}: clean answers`));
      base = batch.map((e, b) => {
        const answer = model.inputs.decode(clean0.result.tokens[b]!);
        return { answer, correct: judge(e, answer), score: null };
      });
      await progress.step(`batch ${bi + 1}/${batches.length}: clean answers`);
      for (const layer of layers) {
        const r = await model.runner.resume(clean0, layer, { hooks: zeroAblation(layer), ...progress.generation(`batch ${bi + 1}/${batches.length}: layer ${layer + 1} ablated`) });
        outcomes.set(layer, batch.map((e, b) => {
          const answer = model.inputs.decode(r.tokens[b]!);
          return { answer, correct: judge(e, answer), score: null };
        }));
        await progress.step(`batch ${bi + 1}/${batches.length}: layer ${layer + 1} ablated`);
      }
    } else {
      const scored = prompts.map((x, b) => ({ ...x, answerIds: model.inputs.answerIds(batch[b]!.answers.target) }));
      const clean0 = await model.runner.clean(scored, { kind: 'score' });
      base = batch.map((_, b) => ({ answer: null, correct: clean0.result.exactMatch[b]!, score: clean0.result.logProb[b]! }));
      await progress.step(`batch ${bi + 1}/${batches.length}: clean scores`);
      for (const layer of layers) {
        const r = await model.runner.resume(clean0, layer, { hooks: zeroAblation(layer) });
        outcomes.set(layer, batch.map((_, b) => ({ answer: null, correct: r.exactMatch[b]!, score: r.logProb[b]! })));
        await progress.step(`batch ${bi + 1}/${batches.length}: layer ${layer + 1} ablated`);
      }
    }
    batch.forEach((e, b) => {
      const c = base[b]!;
      clean.push({ task: e.task, value: c.correct });
      exampleResults.push({ layerIndex: null, exampleId: e.id, task: e.task, condition: 'clean', answer: c.answer, correct: c.correct, changed: null, transferred: null, score: c.score, extra: null });
      for (const layer of layers) {
        const o = outcomes.get(layer)![b]!;
        ablated.get(layer)!.correct.push({ task: e.task, value: o.correct });
        ablated.get(layer)!.drop.push({ task: e.task, value: [c.correct, o.correct] });
        const changed = c.answer !== null && o.answer !== null ? !answersEqual(c.answer, o.answer) : c.correct !== o.correct;
        exampleResults.push({ layerIndex: layer + 1, exampleId: e.id, task: e.task, condition: 'ablate', answer: o.answer, correct: o.correct, changed, transferred: null, score: o.score, extra: null });
      }
    });
  }

  const o = { bootstrapSamples: options.bootstrapSamples, seed: options.seed };
  const layerEffects = [
    ...proportionRows(null, 'accuracy', clean, o),
    ...layers.flatMap((layer) => [
      ...proportionRows(layer + 1, 'accuracy', ablated.get(layer)!.correct, o),
      // drop = clean accuracy - ablated accuracy, paired on the same examples
      ...pairedDifferenceRows(layer + 1, 'accuracy_drop', ablated.get(layer)!.drop, o),
    ]),
  ];
  return { layerEffects, exampleResults };
}
