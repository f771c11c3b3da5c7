/**
 * Reasoning localization by zero ablation (METHOD.md 1b): layer L is
 * replaced by the identity on the residual stream (attention and MLP outputs
 * zero, the skip connection kept), and accuracy is measured against the gold
 * answers, with its drop from the unablated accuracy. Cut into work units
 * (unit-cut.ts); a unit runs inside the model worker.
 */
import type { JobContext } from '../runtime/job-protocol.js';
import { zeroAblation } from '../runtime/interventions.js';
import { keepForResume } from '../runtime/runner.js';
import { answersEqual } from '../scoring/index.js';
import type { UnitInput, UnitPlan } from '../units/work-unit.js';
import { checkLayers, judge, openModel, ProgressCounter } from './common.js';
import { pairedDifferenceRows, proportionRows, type Tagged } from './effects.js';
import { chunks } from './prepare.js';
import type { AnalysisOptions, AnalysisResult, ExampleOutcome, ResolvedExample } from './types.js';
import { cellInput, cutCells, exampleRanges, layerGroups, planCells, DEFAULT_CUT, type UnitCut, perExample, requireLayers, resultAt } from './unit-cut.js';

export interface LocalizeReasoningInput {
  modelDir: string;
  examples: ResolvedExample[];
  options: AnalysisOptions;
}

/** An answer under one condition. */
interface Answer {
  answer: string | null;
  correct: boolean;
  score: number | null;
}

/** Per example of the unit's range: the clean answer, and the answer with each of the unit's layers ablated. */
export interface LocalizeReasoningUnitResult {
  clean: Answer[];
  /** [layer of the unit][example] */
  ablated: Answer[][];
}

/** One unit: the unit's examples (whole batches) with each of `options.layers` ablated. */
export async function localizeReasoningUnit(input: LocalizeReasoningInput, context: JobContext): Promise<LocalizeReasoningUnitResult> {
  const { options } = input;
  const model = await openModel(input.modelDir, context, input.options.chat);
  const layers = checkLayers(options, model.runner.config.numLayers);
  const batches = chunks(input.examples, options.batchSize);
  const progress = new ProgressCounter(context, batches.length * (layers.length + 1));
  const clean: Answer[] = [];
  const ablated: Answer[][] = layers.map(() => []);

  for (const [bi, batch] of batches.entries()) {
    const at = `batch ${bi + 1}/${batches.length}`;
    const prompts = await Promise.all(batch.map((e) => model.inputs.input(e, e.targetImagePath ? 'target' : 'none')));
    if (options.scoring === 'generate') {
      const clean0 = await model.runner.clean(prompts, { kind: 'generate', maxNewTokens: options.maxNewTokens }, progress.generation(`${at}: clean answers`), keepForResume(layers));
      clean.push(...batch.map((e, b) => {
        const answer = model.inputs.decode(clean0.result.tokens[b]!);
        return { answer, correct: judge(e, answer), score: null };
      }));
      await progress.step(`${at}: clean answers`);
      for (const [li, layer] of layers.entries()) {
        const r = await model.runner.resume(clean0, layer, { hooks: zeroAblation(layer), ...progress.generation(`${at}: layer ${layer + 1} ablated`) });
        ablated[li]!.push(...batch.map((e, b) => {
          const answer = model.inputs.decode(r.tokens[b]!);
          return { answer, correct: judge(e, answer), score: null };
        }));
        await progress.step(`${at}: layer ${layer + 1} ablated`);
      }
    } else {
      const scored = prompts.map((x, b) => ({ ...x, answerIds: model.inputs.answerIds(batch[b]!.answers.target) }));
      const clean0 = await model.runner.clean(scored, { kind: 'score' }, {}, keepForResume(layers));
      clean.push(...batch.map((_, b) => ({ answer: null, correct: clean0.result.exactMatch[b]!, score: clean0.result.logProb[b]! })));
      await progress.step(`${at}: clean scores`);
      for (const [li, layer] of layers.entries()) {
        const r = await model.runner.resume(clean0, layer, { hooks: zeroAblation(layer) });
        ablated[li]!.push(...batch.map((_, b) => ({ answer: null, correct: r.exactMatch[b]!, score: r.logProb[b]! })));
        await progress.step(`${at}: layer ${layer + 1} ablated`);
      }
    }
  }
  return { clean, ablated };
}

/** The run cut into units (example ranges x layer groups); `files` are what every unit reads. */
export function planLocalizeReasoning(input: LocalizeReasoningInput, files: readonly UnitInput[], cut: UnitCut = DEFAULT_CUT): UnitPlan<AnalysisResult> {
  requireLayers(input.options);
  const cells = cutCells(input.examples.length, input.options.batchSize, input.options.layers, cut);
  return planCells(
    { module: import.meta.url, exportName: 'localizeReasoningUnit' },
    cells,
    files,
    (cell) => cellInput(input, cell),
    (results) => combineLocalizeReasoning(input, results, cut),
  );
}

/** The run's rows from its units' results (in unit order); pure. */
export function combineLocalizeReasoning(input: LocalizeReasoningInput, results: readonly unknown[], cut: UnitCut = DEFAULT_CUT): AnalysisResult {
  const { options } = input;
  const groups = layerGroups(options.layers, cut);
  const layers = groups.flat();
  const exampleResults: ExampleOutcome[] = [];
  const clean: Tagged<boolean>[] = [];
  const ablated = new Map<number, { correct: Tagged<boolean>[]; drop: Tagged<[boolean, boolean]>[] }>(layers.map((l) => [l, { correct: [], drop: [] }]));

  for (const [ri, range] of exampleRanges(input.examples.length, options.batchSize, cut).entries()) {
    const count = range.end - range.start;
    const parts = groups.map((group, gi) => {
      const part = resultAt<LocalizeReasoningUnitResult>(results, groups.length, ri, gi);
      return { clean: perExample(part.clean, count, 'clean answers', ri * groups.length + gi), ablated: group.map((_, li) => perExample(part.ablated?.[li], count, 'ablated answers', ri * groups.length + gi)) };
    });
    for (let b = 0; b < count; b++) {
      const e = input.examples[range.start + b]!;
      // every group computes the clean answers; the first group's are the run's
      const c = parts[0]!.clean[b]!;
      clean.push({ task: e.task, value: c.correct });
      exampleResults.push({ layerIndex: null, exampleId: e.id, task: e.task, condition: 'clean', answer: c.answer, correct: c.correct, changed: null, transferred: null, score: c.score, extra: null });
      groups.forEach((group, gi) => group.forEach((layer, li) => {
        const o = parts[gi]!.ablated[li]![b]!;
        ablated.get(layer)!.correct.push({ task: e.task, value: o.correct });
        ablated.get(layer)!.drop.push({ task: e.task, value: [c.correct, o.correct] });
        const changed = c.answer !== null && o.answer !== null ? !answersEqual(c.answer, o.answer) : c.correct !== o.correct;
        exampleResults.push({ layerIndex: layer + 1, exampleId: e.id, task: e.task, condition: 'ablate', answer: o.answer, correct: o.correct, changed, transferred: null, score: o.score, extra: null });
      }));
    }
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
