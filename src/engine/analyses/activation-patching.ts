/**
 * Cross-model activation patching (METHOD.md 1c, our rule): run the target
 * model (e.g. IN) on an input, replace its residual stream after layer L with
 * the source model's (e.g. RL) at the same layer and every prompt position,
 * finish the run with the target's weights, and measure how often the answer
 * becomes the source's and how much of the source's accuracy is recovered.
 * Runs inside the model worker.
 */
import type { JobContext } from '../runtime/job-protocol.js';
import { patchResidual } from '../runtime/interventions.js';
import { answersEqual } from '../scoring/index.js';
import { checkLayers, judge, openModel, ProgressCounter } from './common.js';
import { proportionRows, ratioOfSumsRows, type Tagged } from './effects.js';
import { AnalysisInputError, chunks } from './prepare.js';
import type { AnalysisOptions, AnalysisResult, ExampleOutcome, LayerEffect, ResolvedExample } from './types.js';

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

export async function activationPatching(input: ActivationPatchingInput, context: JobContext): Promise<AnalysisResult> {
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
  const exampleResults: ExampleOutcome[] = [];
  const base = { target: [] as Tagged<boolean>[], source: [] as Tagged<boolean>[] };
  const patched = new Map<number, { correct: Tagged<boolean>[]; match: Tagged<boolean>[]; recovered: Tagged<[number, number]>[] }>(
    layers.map((l) => [l, { correct: [], match: [], recovered: [] }]),
  );

  for (const [bi, batch] of batches.entries()) {
    const prompts = await Promise.all(batch.map((e) => target.inputs.input(e, e.targetImagePath ? 'target' : 'none')));
    const perLayer = new Map<number, Outcome[]>();
    let t0: Outcome[];
    let s0: Outcome[];
    if (options.scoring === 'generate') {
      const task = { kind: 'generate' as const, maxNewTokens: options.maxNewTokens };
      const cleanT = await target.runner.clean(prompts, task, progress.generation(`batch ${bi + 1}/${batches.length}: clean answers (target)`));
      const cleanS = await source.runner.clean(prompts, task, progress.generation(`batch ${bi + 1}/${batches.length}: clean answers (source)`));
      const answer = (ids: number[]) => target.inputs.decode(ids);
      t0 = batch.map((e, b) => { const a = answer(cleanT.result.tokens[b]!); return { answer: a, correct: judge(e, a), match: null, score: null }; });
      s0 = batch.map((e, b) => { const a = answer(cleanS.result.tokens[b]!); return { answer: a, correct: judge(e, a), match: null, score: null }; });
      await progress.step(`batch ${bi + 1}/${batches.length}: clean answers`, 2);
      for (const layer of layers) {
        const r = await target.runner.resume(cleanT, layer, { hooks: [patchResidual({ layer, point: 'resid_post', source: cleanS.residPre[layer + 1]! })], ...progress.generation(`batch ${bi + 1}/${batches.length}: patched after layer ${layer + 1}`) });
        perLayer.set(layer, batch.map((e, b) => {
          const a = answer(r.tokens[b]!);
          return { answer: a, correct: judge(e, a), match: answersEqual(a, s0[b]!.answer!), score: null };
        }));
        await progress.step(`batch ${bi + 1}/${batches.length}: patched after layer ${layer + 1}`);
      }
    } else {
      const scored = prompts.map((x, b) => ({ ...x, answerIds: target.inputs.answerIds(batch[b]!.answers.target) }));
      const cleanT = await target.runner.clean(scored, { kind: 'score' });
      const cleanS = await source.runner.clean(scored, { kind: 'score' });
      t0 = batch.map((_, b) => ({ answer: null, correct: cleanT.result.exactMatch[b]!, match: null, score: cleanT.result.logProb[b]! }));
      s0 = batch.map((_, b) => ({ answer: null, correct: cleanS.result.exactMatch[b]!, match: null, score: cleanS.result.logProb[b]! }));
      await progress.step(`batch ${bi + 1}/${batches.length}: clean scores`, 2);
      for (const layer of layers) {
        const r = await target.runner.resume(cleanT, layer, { hooks: [patchResidual({ layer, point: 'resid_post', source: cleanS.residPre[layer + 1]! })] });
        perLayer.set(layer, batch.map((_, b) => ({ answer: null, correct: r.exactMatch[b]!, match: null, score: r.logProb[b]! })));
        await progress.step(`batch ${bi + 1}/${batches.length}: patched after layer ${layer + 1}`);
      }
    }
    batch.forEach((e, b) => {
      base.target.push({ task: e.task, value: t0[b]!.correct });
      base.source.push({ task: e.task, value: s0[b]!.correct });
      exampleResults.push({ layerIndex: null, exampleId: e.id, task: e.task, condition: 'target', answer: t0[b]!.answer, correct: t0[b]!.correct, changed: null, transferred: null, score: t0[b]!.score, extra: null });
      exampleResults.push({ layerIndex: null, exampleId: e.id, task: e.task, condition: 'source', answer: s0[b]!.answer, correct: s0[b]!.correct, changed: null, transferred: null, score: s0[b]!.score, extra: null });
      for (const layer of layers) {
        const o = perLayer.get(layer)![b]!;
        const p = patched.get(layer)!;
        p.correct.push({ task: e.task, value: o.correct });
        if (o.match !== null) p.match.push({ task: e.task, value: o.match });
        if (o.score !== null && t0[b]!.score !== null && s0[b]!.score !== null) {
          // share of the target-to-source log-probability gap closed, as a ratio of sums over examples
          p.recovered.push({ task: e.task, value: [o.score - t0[b]!.score!, s0[b]!.score! - t0[b]!.score!] });
        }
        const changed = o.answer !== null && t0[b]!.answer !== null ? !answersEqual(o.answer, t0[b]!.answer!) : o.correct !== t0[b]!.correct;
        exampleResults.push({ layerIndex: layer + 1, exampleId: e.id, task: e.task, condition: 'patch', answer: o.answer, correct: o.correct, changed, transferred: o.match, score: o.score, extra: null });
      }
    });
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
