/**
 * Cross-model activation patching (METHOD.md 1c, our rule): run the target
 * model (e.g. IN) on an input, replace its residual stream after layer L with
 * the source model's (e.g. RL) at the same layer and every prompt position,
 * finish the run with the target's weights, and measure how often the answer
 * becomes the source's and how much of the source's accuracy is recovered.
 * Cut into work units (unit-cut.ts); a unit runs inside the model worker.
 */
import type { JobContext } from '../runtime/job-protocol.js';
import { patchResidual } from '../runtime/interventions.js';
import { keepForResume } from '../runtime/runner.js';
import { answersEqual } from '../scoring/index.js';
import { checkLayers, judge, openModel, ProgressCounter } from './common.js';
import type { UnitInput, UnitPlan } from '../units/work-unit.js';
import { proportionRows, ratioOfSumsRows, type Tagged } from './effects.js';
import { AnalysisInputError, chunks } from './prepare.js';
import type { AnalysisOptions, AnalysisResult, ExampleOutcome, LayerEffect, ResolvedExample } from './types.js';
import { cellInput, cutCells, exampleRanges, layerGroups, planCells, DEFAULT_CUT, type UnitCut, perExample, requireLayers, resultAt } from './unit-cut.js';

export interface ActivationPatchingInput {
  targetDir: string;
  sourceDir: string;
  examples: ResolvedExample[];
  options: AnalysisOptions;
}

interface Outcome {
  answer: string | null;
  correct: boolean;
  /** generate: answer equals the source model's; teacher forced: share of the log-probability gap closed */
  match: boolean | null;
  score: number | null;
}

/** Per example of the unit's range: both models' clean outcomes, and the target's patched after each of the unit's layers. */
export interface ActivationPatchingUnitResult {
  target: Outcome[];
  source: Outcome[];
  /** [layer of the unit][example] */
  patched: Outcome[][];
}

/** One unit: the unit's examples (whole batches) patched after each of `options.layers`. */
export async function activationPatchingUnit(input: ActivationPatchingInput, context: JobContext): Promise<ActivationPatchingUnitResult> {
  const { options } = input;
  const target = await openModel(input.targetDir, context, input.options.chat);
  const source = await openModel(input.sourceDir, context, input.options.chat);
  const ct = target.runner.config;
  const cs = source.runner.config;
  if (ct.numLayers !== cs.numLayers || ct.hiddenSize !== cs.hiddenSize) {
    throw new AnalysisInputError(`target and source differ in shape (${ct.numLayers} layers x ${ct.hiddenSize} vs ${cs.numLayers} x ${cs.hiddenSize}); patching needs the same residual stream`);
  }
  const layers = checkLayers(options, ct.numLayers);
  const batches = chunks(input.examples, options.batchSize);
  const progress = new ProgressCounter(context, batches.length * (layers.length + 2));
  const out: ActivationPatchingUnitResult = { target: [], source: [], patched: layers.map(() => []) };
  // the source gives only its stream after each patched layer
  const patchSources = { states: layers.map((l) => l + 1), kvBelow: 0 };

  for (const [bi, batch] of batches.entries()) {
    const at = `batch ${bi + 1}/${batches.length}`;
    const prompts = await Promise.all(batch.map((e) => target.inputs.input(e, e.targetImagePath ? 'target' : 'none')));
    if (options.scoring === 'generate') {
      const task = { kind: 'generate' as const, maxNewTokens: options.maxNewTokens };
      const cleanT = await target.runner.clean(prompts, task, progress.generation(`${at}: clean answers (target)`), keepForResume(layers));
      const cleanS = await source.runner.clean(prompts, task, progress.generation(`${at}: clean answers (source)`), patchSources);
      const answer = (ids: number[]) => target.inputs.decode(ids);
      const t0 = batch.map((e, b): Outcome => { const a = answer(cleanT.result.tokens[b]!); return { answer: a, correct: judge(e, a), match: null, score: null }; });
      const s0 = batch.map((e, b): Outcome => { const a = answer(cleanS.result.tokens[b]!); return { answer: a, correct: judge(e, a), match: null, score: null }; });
      out.target.push(...t0);
      out.source.push(...s0);
      await progress.step(`${at}: clean answers`, 2);
      for (const [li, layer] of layers.entries()) {
        const r = await target.runner.resume(cleanT, layer, { hooks: [patchResidual({ layer, point: 'resid_post', source: cleanS.residPre[layer + 1]! })], ...progress.generation(`${at}: patched after layer ${layer + 1}`) });
        out.patched[li]!.push(...batch.map((e, b) => {
          const a = answer(r.tokens[b]!);
          return { answer: a, correct: judge(e, a), match: answersEqual(a, s0[b]!.answer!), score: null };
        }));
        await progress.step(`${at}: patched after layer ${layer + 1}`);
      }
    } else {
      const scored = prompts.map((x, b) => ({ ...x, answerIds: target.inputs.answerIds(batch[b]!.answers.target) }));
      const cleanT = await target.runner.clean(scored, { kind: 'score' }, {}, keepForResume(layers));
      const cleanS = await source.runner.clean(scored, { kind: 'score' }, {}, patchSources);
      out.target.push(...batch.map((_, b) => ({ answer: null, correct: cleanT.result.exactMatch[b]!, match: null, score: cleanT.result.logProb[b]! })));
      out.source.push(...batch.map((_, b) => ({ answer: null, correct: cleanS.result.exactMatch[b]!, match: null, score: cleanS.result.logProb[b]! })));
      await progress.step(`${at}: clean scores`, 2);
      for (const [li, layer] of layers.entries()) {
        const r = await target.runner.resume(cleanT, layer, { hooks: [patchResidual({ layer, point: 'resid_post', source: cleanS.residPre[layer + 1]! })] });
        out.patched[li]!.push(...batch.map((_, b) => ({ answer: null, correct: r.exactMatch[b]!, match: null, score: r.logProb[b]! })));
        await progress.step(`${at}: patched after layer ${layer + 1}`);
      }
    }
  }
  return out;
}

/** The run cut into units (example ranges x layer groups); `files` are what every unit reads. */
export function planActivationPatching(input: ActivationPatchingInput, files: readonly UnitInput[], cut: UnitCut = DEFAULT_CUT): UnitPlan<AnalysisResult> {
  requireLayers(input.options);
  const cells = cutCells(input.examples.length, input.options.batchSize, input.options.layers, cut);
  return planCells(
    { module: import.meta.url, exportName: 'activationPatchingUnit' },
    cells,
    files,
    (cell) => cellInput(input, cell),
    (results) => combineActivationPatching(input, results, cut),
  );
}

/** The run's rows from its units' results (in unit order); pure. */
export function combineActivationPatching(input: ActivationPatchingInput, results: readonly unknown[], cut: UnitCut = DEFAULT_CUT): AnalysisResult {
  const { options } = input;
  const groups = layerGroups(options.layers, cut);
  const layers = groups.flat();
  const exampleResults: ExampleOutcome[] = [];
  const base = { target: [] as Tagged<boolean>[], source: [] as Tagged<boolean>[] };
  const patched = new Map<number, { correct: Tagged<boolean>[]; match: Tagged<boolean>[]; recovered: Tagged<[number, number]>[] }>(
    layers.map((l) => [l, { correct: [], match: [], recovered: [] }]),
  );

  for (const [ri, range] of exampleRanges(input.examples.length, options.batchSize, cut).entries()) {
    const count = range.end - range.start;
    const parts = groups.map((group, gi) => {
      const part = resultAt<ActivationPatchingUnitResult>(results, groups.length, ri, gi);
      return {
        target: perExample(part.target, count, 'target outcomes', ri * groups.length + gi),
        source: perExample(part.source, count, 'source outcomes', ri * groups.length + gi),
        patched: group.map((_, li) => perExample(part.patched?.[li], count, 'patched outcomes', ri * groups.length + gi)),
      };
    });
    for (let b = 0; b < count; b++) {
      const e = input.examples[range.start + b]!;
      // every group computes the clean outcomes; the first group's are the run's
      const t0 = parts[0]!.target[b]!;
      const s0 = parts[0]!.source[b]!;
      base.target.push({ task: e.task, value: t0.correct });
      base.source.push({ task: e.task, value: s0.correct });
      exampleResults.push({ layerIndex: null, exampleId: e.id, task: e.task, condition: 'target', answer: t0.answer, correct: t0.correct, changed: null, transferred: null, score: t0.score, extra: null });
      exampleResults.push({ layerIndex: null, exampleId: e.id, task: e.task, condition: 'source', answer: s0.answer, correct: s0.correct, changed: null, transferred: null, score: s0.score, extra: null });
      groups.forEach((group, gi) => group.forEach((layer, li) => {
        const o = parts[gi]!.patched[li]![b]!;
        const p = patched.get(layer)!;
        p.correct.push({ task: e.task, value: o.correct });
        if (o.match !== null) p.match.push({ task: e.task, value: o.match });
        if (o.score !== null && t0.score !== null && s0.score !== null) {
          // share of the target-to-source log-probability gap closed, as a ratio of sums over examples
          p.recovered.push({ task: e.task, value: [o.score - t0.score, s0.score - t0.score] });
        }
        const changed = o.answer !== null && t0.answer !== null ? !answersEqual(o.answer, t0.answer) : o.correct !== t0.correct;
        exampleResults.push({ layerIndex: layer + 1, exampleId: e.id, task: e.task, condition: 'patch', answer: o.answer, correct: o.correct, changed, transferred: o.match, score: o.score, extra: null });
      }));
    }
  }

  const o = { bootstrapSamples: options.bootstrapSamples, seed: options.seed };
  const layerEffects: LayerEffect[] = [
    ...proportionRows(null, 'accuracy_target', base.target, o),
    ...proportionRows(null, 'accuracy_source', base.source, o),
    ...layers.flatMap((layer) => {
      const p = patched.get(layer)!;
      return [
        ...proportionRows(layer + 1, 'accuracy', p.correct, o),
        ...(p.match.length ? proportionRows(layer + 1, 'source_answer_rate', p.match, o) : []),
        ...(p.recovered.length ? ratioOfSumsRows(layer + 1, 'logprob_recovered', p.recovered, o) : []),
      ];
    }),
  ];
  return { layerEffects, exampleResults };
}
