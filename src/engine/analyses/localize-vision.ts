/**
 * Vision localization by visual-token swapping (METHOD.md 1a): for each
 * layer L, the target image's visual-token keys and values at every layer
 * >= L are replaced by the source image's, and the answer is compared with
 * the unswapped one (change rate) and with the source's gold answer
 * (transfer rate). Cut into work units (unit-cut.ts); a unit runs inside the
 * model worker.
 */
import type { JobContext } from '../runtime/job-protocol.js';
import { swapVisualKV } from '../runtime/interventions.js';
import { keepForResume } from '../runtime/runner.js';
import { answersEqual } from '../scoring/index.js';
import type { UnitInput, UnitPlan } from '../units/work-unit.js';
import { checkLayers, judge, openModel, ProgressCounter } from './common.js';
import { proportionRows, type Tagged } from './effects.js';
import { AnalysisInputError, chunks } from './prepare.js';
import type { AnalysisOptions, AnalysisResult, ExampleOutcome, ResolvedExample } from './types.js';
import { cellInput, cutCells, exampleRanges, layerGroups, planCells, DEFAULT_CUT, type UnitCut, perExample, requireLayers, resultAt } from './unit-cut.js';

export interface LocalizeVisionInput {
  modelDir: string;
  examples: ResolvedExample[];
  options: AnalysisOptions;
}

interface SwapOutcome {
  answer: string | null;
  correct: boolean;
  changed: boolean;
  transferred: boolean;
  score: number | null;
}

/** Per pair of the unit's range: the unswapped answer, and the outcome of swapping from each of the unit's layers. */
export interface LocalizeVisionUnitResult {
  clean: { answer: string | null; correct: boolean }[];
  /** [layer of the unit][pair] */
  swapped: SwapOutcome[][];
}

/** The examples the swap can use: target/source pairs with both answers. */
function swapPairs(examples: readonly ResolvedExample[]): ResolvedExample[] {
  const pairs = examples.filter((e) => e.sourceImagePath !== null && e.answers.source !== null);
  if (pairs.length === 0) {
    throw new AnalysisInputError('VISUAL_TOKEN_SWAP needs target/source image pairs with both answers (the reference pair format); the selected examples have none');
  }
  return pairs;
}

/** One unit: the unit's pairs (whole batches) swapped from each of `options.layers`. */
export async function localizeVisionUnit(input: LocalizeVisionInput, context: JobContext): Promise<LocalizeVisionUnitResult> {
  const { options } = input;
  const pairs = swapPairs(input.examples);
  const model = await openModel(input.modelDir, context, input.options.chat);
  if (!model.runner.config.vision) throw new AnalysisInputError('VISUAL_TOKEN_SWAP needs a vision-language model; this one is text-only');
  const layers = checkLayers(options, model.runner.config.numLayers);
  const batches = chunks(pairs, options.batchSize);
  const progress = new ProgressCounter(context, batches.length * (layers.length + 1));
  const clean: LocalizeVisionUnitResult['clean'] = [];
  const swapped: SwapOutcome[][] = layers.map(() => []);

  for (const [bi, batch] of batches.entries()) {
    const at = `batch ${bi + 1}/${batches.length}`;
    const targets = await Promise.all(batch.map((e) => model.inputs.input(e, 'target')));
    const sources = await Promise.all(batch.map((e) => model.inputs.input(e, 'source')));
    // the swap reads the source's keys and values only
    const source = await model.runner.clean(sources, { kind: 'logits' }, {}, { states: [], kvBelow: model.runner.config.numLayers });

    if (options.scoring === 'generate') {
      const base = await model.runner.clean(targets, { kind: 'generate', maxNewTokens: options.maxNewTokens }, progress.generation(`${at}: clean answers`), keepForResume(layers));
      const cleanAnswers = base.result.tokens.map((ids) => model.inputs.decode(ids));
      clean.push(...batch.map((e, b) => ({ answer: cleanAnswers[b]!, correct: judge(e, cleanAnswers[b]!) })));
      await progress.step(`${at}: clean answers`);
      for (const [li, layer] of layers.entries()) {
        const r = await model.runner.resume(base, layer, { hooks: swapVisualKV({ fromLayer: layer, source }), ...progress.generation(`${at}: swap from layer ${layer + 1}`) });
        swapped[li]!.push(...batch.map((e, b) => {
          const answer = model.inputs.decode(r.tokens[b]!);
          return { answer, correct: judge(e, answer), changed: !answersEqual(answer, cleanAnswers[b]!), transferred: judge(e, answer, 'source'), score: null };
        }));
        await progress.step(`${at}: swap from layer ${layer + 1}`);
      }
    } else {
      // teacher forced: exact match and log-probability of the target's and the source's gold answers
      const withTarget = targets.map((x, b) => ({ ...x, answerIds: model.inputs.answerIds(batch[b]!.answers.target) }));
      const withSource = targets.map((x, b) => ({ ...x, answerIds: model.inputs.answerIds(batch[b]!.answers.source!) }));
      const baseT = await model.runner.clean(withTarget, { kind: 'score' }, {}, keepForResume(layers));
      const baseS = await model.runner.clean(withSource, { kind: 'score' }, {}, keepForResume(layers));
      clean.push(...batch.map((_, b) => ({ answer: null, correct: baseT.result.exactMatch[b]! })));
      await progress.step(`${at}: clean scores`);
      for (const [li, layer] of layers.entries()) {
        const hooks = swapVisualKV({ fromLayer: layer, source });
        const rT = await model.runner.resume(baseT, layer, { hooks });
        const rS = await model.runner.resume(baseS, layer, { hooks });
        swapped[li]!.push(...batch.map((_, b) => ({
          answer: null,
          correct: rT.exactMatch[b]!,
          changed: rT.exactMatch[b] !== baseT.result.exactMatch[b],
          transferred: rS.exactMatch[b]!,
          score: rS.logProb[b]! - rT.logProb[b]!,
        })));
        await progress.step(`${at}: swap from layer ${layer + 1}`);
      }
    }
  }
  return { clean, swapped };
}

/** The run cut into units (ranges of pairs x layer groups); `files` are what every unit reads. */
export function planLocalizeVision(input: LocalizeVisionInput, files: readonly UnitInput[], cut: UnitCut = DEFAULT_CUT): UnitPlan<AnalysisResult> {
  requireLayers(input.options);
  const whole = { ...input, examples: swapPairs(input.examples) };
  const cells = cutCells(whole.examples.length, whole.options.batchSize, whole.options.layers, cut);
  return planCells(
    { module: import.meta.url, exportName: 'localizeVisionUnit' },
    cells,
    files,
    (cell) => cellInput(whole, cell),
    (results) => combineLocalizeVision(whole, results, cut),
  );
}

/** The run's rows from its units' results (in unit order); pure. `input.examples` are the pairs. */
export function combineLocalizeVision(input: LocalizeVisionInput, results: readonly unknown[], cut: UnitCut = DEFAULT_CUT): AnalysisResult {
  const { options } = input;
  const groups = layerGroups(options.layers, cut);
  const layers = groups.flat();
  const exampleResults: ExampleOutcome[] = [];
  const clean: Tagged<boolean>[] = [];
  const swapped = new Map<number, { changed: Tagged<boolean>[]; transferred: Tagged<boolean>[]; correct: Tagged<boolean>[] }>(
    layers.map((l) => [l, { changed: [], transferred: [], correct: [] }]),
  );

  for (const [ri, range] of exampleRanges(input.examples.length, options.batchSize, cut).entries()) {
    const count = range.end - range.start;
    const parts = groups.map((group, gi) => {
      const part = resultAt<LocalizeVisionUnitResult>(results, groups.length, ri, gi);
      return { clean: perExample(part.clean, count, 'clean answers', ri * groups.length + gi), swapped: group.map((_, li) => perExample(part.swapped?.[li], count, 'swapped answers', ri * groups.length + gi)) };
    });
    for (let b = 0; b < count; b++) {
      const e = input.examples[range.start + b]!;
      // every group computes the unswapped answers; the first group's are the run's
      const c = parts[0]!.clean[b]!;
      clean.push({ task: e.task, value: c.correct });
      exampleResults.push({ layerIndex: null, exampleId: e.id, task: e.task, condition: 'clean', answer: c.answer, correct: c.correct, changed: null, transferred: null, score: null, extra: null });
      groups.forEach((group, gi) => group.forEach((layer, li) => {
        const o = parts[gi]!.swapped[li]![b]!;
        const s = swapped.get(layer)!;
        s.changed.push({ task: e.task, value: o.changed });
        s.transferred.push({ task: e.task, value: o.transferred });
        s.correct.push({ task: e.task, value: o.correct });
        exampleResults.push({ layerIndex: layer + 1, exampleId: e.id, task: e.task, condition: 'swap', answer: o.answer, correct: o.correct, changed: o.changed, transferred: o.transferred, score: o.score, extra: null });
      }));
    }
  }

  const o = { bootstrapSamples: options.bootstrapSamples, seed: options.seed };
  const layerEffects = [
    ...proportionRows(null, 'accuracy', clean, o),
    ...layers.flatMap((layer) => {
      const s = swapped.get(layer)!;
      return [
        ...proportionRows(layer + 1, 'change_rate', s.changed, o),
        ...proportionRows(layer + 1, 'transfer_rate', s.transferred, o),
        ...proportionRows(layer + 1, 'accuracy', s.correct, o),
      ];
    }),
  ];
  return { layerEffects, exampleResults };
}
