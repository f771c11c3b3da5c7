/**
 * Vision localization by visual-token swapping (METHOD.md 1a): for each
 * layer L, the target image's visual-token keys and values at every layer
 * >= L are replaced by the source image's, and the answer is compared with
 * the unswapped one (change rate) and with the source's gold answer
 * (transfer rate). Runs inside the model worker.
 */
import type { JobContext } from '../runtime/job-protocol.js';
import { swapVisualKV } from '../runtime/interventions.js';
import { answersEqual } from '../scoring/index.js';
import { checkLayers, judge, openModel, ProgressCounter } from './common.js';
import { proportionRows, type Tagged } from './effects.js';
import { AnalysisInputError, chunks } from './prepare.js';
import type { AnalysisOptions, AnalysisResult, ExampleOutcome, ResolvedExample } from './types.js';

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

export async function localizeVision(input: LocalizeVisionInput, context: JobContext): Promise<AnalysisResult> {
  const { options } = input;
  const pairs = input.examples.filter((e) => e.sourceImagePath !== null && e.answers.source !== null);
  if (pairs.length === 0) {
    throw new AnalysisInputError('VISUAL_TOKEN_SWAP needs target/source image pairs with both answers (the reference pair format); the selected examples have none');
  }
  const model = await openModel(input.modelDir, context, input.options.chat);
  if (!model.runner.config.vision) throw new AnalysisInputError('VISUAL_TOKEN_SWAP needs a vision-language model; this one is text-only');
  const layers = checkLayers(options, model.runner.config.numLayers);
  const batches = chunks(pairs, options.batchSize);
  const progress = new ProgressCounter(context, batches.length * (layers.length + 1));

  const exampleResults: ExampleOutcome[] = [];
  const clean: Tagged<boolean>[] = [];
  const swapped = new Map<number, { changed: Tagged<boolean>[]; transferred: Tagged<boolean>[]; correct: Tagged<boolean>[] }>(
    layers.map((l) => [l, { changed: [], transferred: [], correct: [] }]),
  );

  for (const [bi, batch] of batches.entries()) {
    const targets = await Promise.all(batch.map((e) => model.inputs.input(e, 'target')));
    const sources = await Promise.all(batch.map((e) => model.inputs.input(e, 'source')));
    const source = await model.runner.clean(sources, { kind: 'logits' });
    const perLayer = new Map<number, SwapOutcome[]>();
    let cleanCorrect: boolean[];
    let cleanAnswers: (string | null)[];

    if (options.scoring === 'generate') {
      const base = await model.runner.clean(targets, { kind: 'generate', maxNewTokens: options.maxNewTokens }, progress.generation(`batch ${bi + 1}/${batches.length}: clean answers`));
      cleanAnswers = base.result.tokens.map((ids) => model.inputs.decode(ids));
      cleanCorrect = batch.map((e, b) => judge(e, cleanAnswers[b]!));
      await progress.step(`batch ${bi + 1}/${batches.length}: clean answers`);
      for (const layer of layers) {
        const r = await model.runner.resume(base, layer, { hooks: swapVisualKV({ fromLayer: layer, source }), ...progress.generation(`batch ${bi + 1}/${batches.length}: swap from layer ${layer + 1}`) });
        perLayer.set(layer, batch.map((e, b) => {
          const answer = model.inputs.decode(r.tokens[b]!);
          return { answer, correct: judge(e, answer), changed: !answersEqual(answer, cleanAnswers[b]!), transferred: judge(e, answer, 'source'), score: null };
        }));
        await progress.step(`batch ${bi + 1}/${batches.length}: swap from layer ${layer + 1}`);
      }
    } else {
      // teacher forced: exact match and log-probability of the target's and the source's gold answers
      const withTarget = targets.map((x, b) => ({ ...x, answerIds: model.inputs.answerIds(batch[b]!.answers.target) }));
      const withSource = targets.map((x, b) => ({ ...x, answerIds: model.inputs.answerIds(batch[b]!.answers.source!) }));
      const baseT = await model.runner.clean(withTarget, { kind: 'score' });
      const baseS = await model.runner.clean(withSource, { kind: 'score' });
      cleanAnswers = batch.map(() => null);
      cleanCorrect = baseT.result.exactMatch;
      await progress.step(`batch ${bi + 1}/${batches.length}: clean scores`);
      for (const layer of layers) {
        const hooks = swapVisualKV({ fromLayer: layer, source });
        const rT = await model.runner.resume(baseT, layer, { hooks });
        const rS = await model.runner.resume(baseS, layer, { hooks });
        perLayer.set(layer, batch.map((_, b) => ({
          answer: null,
          correct: rT.exactMatch[b]!,
          changed: rT.exactMatch[b] !== baseT.result.exactMatch[b],
          transferred: rS.exactMatch[b]!,
          score: rS.logProb[b]! - rT.logProb[b]!,
        })));
        await progress.step(`batch ${bi + 1}/${batches.length}: swap from layer ${layer + 1}`);
      }
    }

    batch.forEach((e, b) => {
      clean.push({ task: e.task, value: cleanCorrect[b]! });
      exampleResults.push({ layerIndex: null, exampleId: e.id, task: e.task, condition: 'clean', answer: cleanAnswers[b]!, correct: cleanCorrect[b]!, changed: null, transferred: null, score: null, extra: null });
      for (const layer of layers) {
        const o = perLayer.get(layer)![b]!;
        const s = swapped.get(layer)!;
        s.changed.push({ task: e.task, value: o.changed });
        s.transferred.push({ task: e.task, value: o.transferred });
        s.correct.push({ task: e.task, value: o.correct });
        exampleResults.push({ layerIndex: layer + 1, exampleId: e.id, task: e.task, condition: 'swap', answer: o.answer, correct: o.correct, changed: o.changed, transferred: o.transferred, score: o.score, extra: null });
      }
    });
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
