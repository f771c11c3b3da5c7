/**
 * Inference-time shift, attention side (METHOD.md 1c): per layer, the
 * attention mass from the text positions after the image to the visual-token
 * positions, for model A and model B on the same inputs, and B - A.
 * Cut into work units by example range only (unit-cut.ts): one forward
 * pass measures every layer, so splitting layers would repeat it. A unit runs
 * inside the model worker.
 */
import { prepareBatch } from '../runtime/batch.js';
import type { JobContext } from '../runtime/job-protocol.js';
import { attentionMass } from '../runtime/interventions.js';
import { checkLayers, openModel, ProgressCounter } from './common.js';
import type { UnitInput, UnitPlan } from '../units/work-unit.js';
import { meanRows, type Tagged } from './effects.js';
import { AnalysisInputError, chunks } from './prepare.js';
import type { AnalysisOptions, AnalysisResult, ExampleOutcome, ResolvedExample } from './types.js';
import { cellInput, cutCells, exampleRanges, planCells, DEFAULT_CUT, type UnitCut, perExample, requireLayers, resultAt } from './unit-cut.js';

export interface AttentionShiftInput {
  modelDirA: string;
  modelDirB: string;
  examples: ResolvedExample[];
  options: AnalysisOptions;
}

/** Query positions: real tokens after the visual span (and after its end marker); keys: the visual span. */
function positions(layout: ReturnType<typeof prepareBatch>['layout'], hasEndMarker: boolean): { queries: number[][]; keys: number[][] } {
  const queries: number[][] = [];
  const keys: number[][] = [];
  for (let b = 0; b < layout.batchSize; b++) {
    const visual = layout.visualPositions[b]!;
    const last = visual.length ? visual[visual.length - 1]! : layout.length;
    const q: number[] = [];
    for (let t = last + 1 + (hasEndMarker ? 1 : 0); t < layout.length; t++) q.push(t);
    queries.push(q);
    keys.push([...visual]);
  }
  return { queries, keys };
}

/** Per example of the unit's range: the mass at each of the unit's layers in A and B; null when no text follows the image. */
export interface AttentionShiftUnitResult {
  masses: ({ a: number[]; b: number[] } | null)[];
}

/** The examples the measurement can use: those with an image. */
function withImages(examples: readonly ResolvedExample[]): ResolvedExample[] {
  const out = examples.filter((e) => e.targetImagePath !== null);
  if (out.length === 0) throw new AnalysisInputError('attentionShift needs examples with an image; the selected examples have none');
  return out;
}

/** One unit: the unit's examples (whole batches) through models A and B, every layer of `options.layers` measured. */
export async function attentionShiftUnit(input: AttentionShiftInput, context: JobContext): Promise<AttentionShiftUnitResult> {
  const { options } = input;
  const examples = withImages(input.examples);
  const a = await openModel(input.modelDirA, context, input.options.chat);
  const b = await openModel(input.modelDirB, context, input.options.chat);
  if (!a.runner.config.vision || !b.runner.config.vision) throw new AnalysisInputError('attentionShift needs two vision-language models');
  if (a.runner.config.numLayers !== b.runner.config.numLayers) {
    throw new AnalysisInputError(`models A and B have ${a.runner.config.numLayers} and ${b.runner.config.numLayers} layers; attentionShift compares the same layers`);
  }
  const layers = checkLayers(options, a.runner.config.numLayers);
  const batches = chunks(examples, options.batchSize);
  const progress = new ProgressCounter(context, batches.length * 2);
  const masses: AttentionShiftUnitResult['masses'] = [];

  for (const [bi, batch] of batches.entries()) {
    // both models read the same token ids (built with A's tokenizer), so positions agree
    const prompts = await Promise.all(batch.map((e) => a.inputs.input(e, 'target')));
    const layout = prepareBatch(a.runner.config, prompts).layout;
    const { queries, keys } = positions(layout, a.runner.config.visionEndTokenId !== null);
    const probeA = attentionMass({ numLayers: a.runner.config.numLayers, queries, keys });
    await a.runner.forward(prompts, { hooks: probeA.hooks });
    await progress.step(`batch ${bi + 1}/${batches.length}: model A`);
    const probeB = attentionMass({ numLayers: b.runner.config.numLayers, queries, keys });
    await b.runner.forward(prompts, { hooks: probeB.hooks });
    await progress.step(`batch ${bi + 1}/${batches.length}: model B`);
    batch.forEach((_, i) => {
      // an image at the very end leaves no text after it to attend from: no measurement, not a zero
      masses.push(queries[i]!.length === 0 ? null : { a: layers.map((l) => probeA.mass[l]![i]!), b: layers.map((l) => probeB.mass[l]![i]!) });
    });
  }
  return { masses };
}

/** The run cut into units (example ranges, every layer in each); `files` are what every unit reads. */
export function planAttentionShift(input: AttentionShiftInput, files: readonly UnitInput[], cut: UnitCut = DEFAULT_CUT): UnitPlan<AnalysisResult> {
  requireLayers(input.options);
  const whole = { ...input, examples: withImages(input.examples), options: { ...input.options, layers: [...input.options.layers].sort((x, y) => x - y) } };
  const cells = cutCells(whole.examples.length, whole.options.batchSize, null, cut).map((c) => ({ ...c, layers: whole.options.layers }));
  return planCells(
    { module: import.meta.url, exportName: 'attentionShiftUnit' },
    cells,
    files,
    (cell) => cellInput(whole, cell),
    (results) => combineAttentionShift(whole, results, cut),
  );
}

/** The run's rows from its units' results (in unit order); pure. `input.examples` are those with an image. */
export function combineAttentionShift(input: AttentionShiftInput, results: readonly unknown[], cut: UnitCut = DEFAULT_CUT): AnalysisResult {
  const { options } = input;
  const layers = options.layers;
  const mass = { a: new Map<number, Tagged<number>[]>(), b: new Map<number, Tagged<number>[]>(), diff: new Map<number, Tagged<number>[]>() };
  for (const l of layers) for (const m of Object.values(mass)) m.set(l, []);
  const exampleResults: ExampleOutcome[] = [];

  for (const [ri, range] of exampleRanges(input.examples.length, options.batchSize, cut).entries()) {
    const count = range.end - range.start;
    const masses = perExample(resultAt<AttentionShiftUnitResult>(results, 1, ri, 0).masses, count, 'measurements', ri);
    for (let i = 0; i < count; i++) {
      const e = input.examples[range.start + i]!;
      const m = masses[i];
      if (!m) continue;
      layers.forEach((l, li) => {
        const ma = m.a[li]!;
        const mb = m.b[li]!;
        mass.a.get(l)!.push({ task: e.task, value: ma });
        mass.b.get(l)!.push({ task: e.task, value: mb });
        mass.diff.get(l)!.push({ task: e.task, value: mb - ma });
        exampleResults.push({ layerIndex: l + 1, exampleId: e.id, task: e.task, condition: 'model_a', answer: null, correct: null, changed: null, transferred: null, score: ma, extra: null });
        exampleResults.push({ layerIndex: l + 1, exampleId: e.id, task: e.task, condition: 'model_b', answer: null, correct: null, changed: null, transferred: null, score: mb, extra: null });
      });
    }
  }
  const o = { bootstrapSamples: options.bootstrapSamples, seed: options.seed };
  const layerEffects = layers.flatMap((l) => [
    ...meanRows(l + 1, 'attention_mass_a', mass.a.get(l)!, o),
    ...meanRows(l + 1, 'attention_mass_b', mass.b.get(l)!, o),
    ...meanRows(l + 1, 'attention_mass_diff', mass.diff.get(l)!, o),
  ]);
  return { layerEffects, exampleResults };
}
