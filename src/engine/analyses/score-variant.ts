/**
 * Scores one model or merge variant in one evaluation setting of METHOD.md
 * section 3 (perception: image vs black image; alignment: image vs black
 * image + text description; reasoning: the question as posed, with its own
 * image when it has one and no description), with the accuracy of
 * each condition and the transition statistics between the two conditions.
 * A merge variant is composed lazily (MergedWeights): no file is written.
 * Cut into work units by example range (unit-cut.ts); a unit runs inside
 * the model worker.
 */
import { MergedWeights } from '../merge/index.js';
import type { MergeRecipe } from '../merge/index.js';
import { loadChatTemplate } from '../model/chat.js';
import { TextTokenizer } from '../model/tokenizer.js';
import type { JobContext } from '../runtime/job-protocol.js';
import type { HookedRunner } from '../runtime/runner.js';
import { transitionStatsWithIntervals } from '../scoring/index.js';
import { judge, ProgressCounter } from './common.js';
import type { UnitInput, UnitPlan } from '../units/work-unit.js';
import { proportionRows, type Tagged } from './effects.js';
import { AnalysisInputError, chunks, InputBuilder, type ImageChoice } from './prepare.js';
import type { AnalysisOptions, AnalysisResult, ExampleOutcome, LayerEffect, ResolvedExample } from './types.js';
import { cellInput, cutCells, exampleRanges, planCells, DEFAULT_CUT, type UnitCut, perExample, resultAt } from './unit-cut.js';

export type Setting = 'perception' | 'alignment' | 'reasoning';

/** The conditions of each setting: how the picture (and description) are shown. */
export const SETTING_CONDITIONS: Record<Setting, readonly { name: string; image: ImageChoice; description: boolean }[]> = {
  perception: [
    { name: 'image', image: 'target', description: false },
    { name: 'black_image', image: 'black', description: false },
  ],
  alignment: [
    { name: 'image', image: 'target', description: false },
    { name: 'black_image_description', image: 'black', description: true },
  ],
  // METHOD's 'question only' means no manipulation: text questions stay text-only, visual reasoning keeps its picture
  reasoning: [{ name: 'question', image: 'posed', description: false }],
};

export interface ScoreVariantInput {
  /** a plain checkpoint directory, or a recipe over model directories */
  variant: { modelDir: string } | { recipe: MergeRecipe; dirs: Record<string, string>; tokenizerDir: string };
  examples: ResolvedExample[];
  setting: Setting;
  options: AnalysisOptions;
}

/** An answer under one condition. */
interface Answer {
  answer: string | null;
  correct: boolean;
  score: number | null;
}

/** Per condition of the setting (in order), per example of the unit's range. */
export interface ScoreVariantUnitResult {
  conditions: Answer[][];
}

/** One unit: the unit's examples (whole batches) under each condition of the setting. */
export async function scoreVariantUnit(input: ScoreVariantInput, context: JobContext): Promise<ScoreVariantUnitResult> {
  const { options, setting } = input;
  const conditions = SETTING_CONDITIONS[setting];
  let runner: HookedRunner;
  let tokenizerDir: string;
  let release = async () => {};
  if ('modelDir' in input.variant) {
    runner = await context.openRunner(input.variant.modelDir);
    tokenizerDir = input.variant.modelDir;
  } else {
    const weights = await MergedWeights.open(input.variant.recipe, input.variant.dirs);
    try {
      runner = await context.createRunner(weights);
    } catch (err) {
      await weights.close();
      throw err;
    }
    tokenizerDir = input.variant.tokenizerDir;
    release = async () => {
      await runner.release();
      await weights.close();
    };
  }
  try {
    const inputs = new InputBuilder(runner.config, await TextTokenizer.load(tokenizerDir), options.chat ? await loadChatTemplate(tokenizerDir) : null);
    if (conditions.some((c) => c.image !== 'none' && c.image !== 'posed') && !runner.config.vision) throw new AnalysisInputError(`the ${setting} setting needs a vision-language model`);
    const batches = chunks(input.examples, options.batchSize);
    const progress = new ProgressCounter(context, batches.length * conditions.length);
    const out: Answer[][] = conditions.map(() => []);
    for (const [bi, batch] of batches.entries()) {
      for (const [ci, condition] of conditions.entries()) {
        const prompts = await Promise.all(
          batch.map((e) => {
            if (condition.description && !e.description) throw new AnalysisInputError(`example '${e.id}' has no description for the alignment setting`);
            const prefix = condition.description ? `${e.description} ` : '';
            return inputs.input(e, condition.image === 'target' && !e.targetImagePath ? 'none' : condition.image, prefix);
          }),
        );
        if (options.scoring === 'generate') {
          const r = await runner.generate(prompts, { maxNewTokens: options.maxNewTokens, ...progress.generation(`batch ${bi + 1}/${batches.length}: ${condition.name}`) });
          out[ci]!.push(...batch.map((e, b) => {
            const answer = inputs.decode(r.tokens[b]!);
            return { answer, correct: judge(e, answer), score: null };
          }));
        } else {
          const r = await runner.score(prompts.map((x, b) => ({ ...x, answerIds: inputs.answerIds(batch[b]!.answers.target) })));
          out[ci]!.push(...batch.map((_, b) => ({ answer: null, correct: r.exactMatch[b]!, score: r.logProb[b]! })));
        }
        await progress.step(`batch ${bi + 1}/${batches.length}: ${condition.name}`);
      }
    }
    return { conditions: out };
  } finally {
    await release();
  }
}

/** The run cut into units (example ranges); `files` are what every unit reads (each checkpoint of a recipe, the probe set). */
export function planScoreVariant(input: ScoreVariantInput, files: readonly UnitInput[], cut: UnitCut = DEFAULT_CUT): UnitPlan<AnalysisResult> {
  const cells = cutCells(input.examples.length, input.options.batchSize, null, cut);
  return planCells(
    { module: import.meta.url, exportName: 'scoreVariantUnit' },
    cells,
    files,
    (cell) => cellInput(input, cell),
    (results) => combineScoreVariant(input, results, cut),
  );
}

/** The run's rows from its units' results (in unit order); pure. */
export function combineScoreVariant(input: ScoreVariantInput, results: readonly unknown[], cut: UnitCut = DEFAULT_CUT): AnalysisResult {
  const { options, examples } = input;
  const conditions = SETTING_CONDITIONS[input.setting];
  const outcomes = new Map<string, Map<string, boolean>>(conditions.map((c) => [c.name, new Map()]));
  const exampleResults: ExampleOutcome[] = [];
  for (const [ri, range] of exampleRanges(examples.length, options.batchSize, cut).entries()) {
    const part = resultAt<ScoreVariantUnitResult>(results, 1, ri, 0);
    const answers = conditions.map((c, ci) => perExample(part.conditions?.[ci], range.end - range.start, `answers (${c.name})`, ri));
    // rows in the order a single pass writes them: batch by batch, condition by condition
    for (let start = range.start; start < range.end; start += options.batchSize) {
      const end = Math.min(range.end, start + options.batchSize);
      conditions.forEach((condition, ci) => {
        for (let i = start; i < end; i++) {
          const e = examples[i]!;
          const a = answers[ci]![i - range.start]!;
          outcomes.get(condition.name)!.set(e.id, a.correct);
          exampleResults.push({ layerIndex: null, exampleId: e.id, task: e.task, condition: condition.name, answer: a.answer, correct: a.correct, changed: null, transferred: null, score: a.score, extra: null });
        }
      });
    }
  }
  const o = { bootstrapSamples: options.bootstrapSamples, seed: options.seed };
  const tagged = (name: string): Tagged<boolean>[] => examples.map((e) => ({ task: e.task, value: outcomes.get(name)!.get(e.id)! }));
  const layerEffects: LayerEffect[] = conditions.flatMap((c) => proportionRows(null, `accuracy_${c.name}`, tagged(c.name), o));
  if (conditions.length === 2) layerEffects.push(...transitionRows(examples, outcomes.get(conditions[0]!.name)!, outcomes.get(conditions[1]!.name)!, o));
  return { layerEffects, exampleResults };
}

/** Transition statistics between condition A (with the image) and B, per task and over all. */
function transitionRows(examples: ResolvedExample[], a: Map<string, boolean>, b: Map<string, boolean>, o: { bootstrapSamples: number; seed: number }): LayerEffect[] {
  const groups = new Map<string, ResolvedExample[]>([['all', examples]]);
  for (const e of examples) groups.set(e.task, [...(groups.get(e.task) ?? []), e]);
  const rows: LayerEffect[] = [];
  for (const [task, members] of groups) {
    const t = transitionStatsWithIntervals(members.map((e) => a.get(e.id)!), members.map((e) => b.get(e.id)!), { resamples: o.bootstrapSamples, seed: o.seed });
    const plain = (metric: string, value: number | null, ci: { low: number | null; high: number | null } = { low: null, high: null }): LayerEffect => ({
      layerIndex: null, section: null, task, metric, value, ciLow: ci.low, ciHigh: ci.high, n: t.n, extra: null,
    });
    rows.push(
      plain('n_tt', t.nTT), plain('n_tf', t.nTF), plain('n_ft', t.nFT), plain('n_ff', t.nFF),
      plain('delta', t.delta, t.deltaInterval), plain('net_gain', t.netGain),
      plain('side_effect_rate', t.sideEffectRate), plain('lift_rate', t.liftRate), plain('mcnemar_p', t.mcnemarP),
    );
  }
  return rows;
}
