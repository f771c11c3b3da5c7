/**
 * `combine` without a model: synthetic per-example outcomes, cut finely or
 * not at all, must give the same rows bit for bit, whatever order the unit
 * results arrived in; a result that does not cover its unit is refused.
 */
import { describe, expect, test } from 'vitest';
import { planLocalizeReasoning, type LocalizeReasoningInput, type LocalizeReasoningUnitResult } from '../../src/engine/analyses/localize-reasoning.js';
import { planScoreVariant, type ScoreVariantInput, type ScoreVariantUnitResult } from '../../src/engine/analyses/score-variant.js';
import type { AnalysisOptions, ResolvedExample } from '../../src/engine/analyses/types.js';
import { WHOLE_RUN, type UnitCut } from '../../src/engine/analyses/unit-cut.js';
import { SeededRandom } from '../../src/engine/linalg/seeded-random.js';
import { decodeUnitResult, encodeUnitResult, type UnitPlan, type WorkUnit } from '../../src/engine/units/work-unit.js';

const FILES = [{ role: 'model', path: '/models/m', fingerprint: 'f' }];

function example(i: number): ResolvedExample {
  return {
    id: `e${String(i).padStart(3, '0')}`, task: i % 3 === 0 ? 'counting' : 'ocr', split: 'reasoning', prompt: 'q?',
    images: { target: null, source: null }, answers: { target: String(i % 4), source: null },
    description: null, tags: [], meta: {}, targetImagePath: null, sourceImagePath: null,
  } as ResolvedExample;
}

const options = (layers: number[], batchSize: number): AnalysisOptions => ({ layers, scoring: 'generate', maxNewTokens: 4, batchSize, bootstrapSamples: 300, seed: 11, chat: false });

/** What a model would answer for (example, layer): a fixed pseudo-random function, so any cut sees the same outcomes. */
function answerOf(exampleIndex: number, layer: number | null): { answer: string; correct: boolean; score: null } {
  const r = new SeededRandom(exampleIndex * 131 + (layer === null ? 0 : layer + 1)).uniform();
  const answer = String(Math.floor(r * 4));
  return { answer, correct: answer === String(exampleIndex % 4), score: null };
}

/** The result a unit would compute: outcomes of the unit's examples (found by id) at the unit's layers. */
function reasoningUnit(unit: WorkUnit): LocalizeReasoningUnitResult {
  const input = unit.input as LocalizeReasoningInput;
  const idx = input.examples.map((e) => Number(e.id.slice(1)));
  return { clean: idx.map((i) => answerOf(i, null)), ablated: input.options.layers.map((l) => idx.map((i) => answerOf(i, l))) };
}

function combineIn<R>(plan: UnitPlan<R>, compute: (u: WorkUnit) => unknown, order: number[]): R | Promise<R> {
  const results: unknown[] = new Array(plan.units.length);
  for (const i of order) results[plan.units[i]!.index] = decodeUnitResult(encodeUnitResult(compute(plan.units[i]!)));
  return plan.combine(results);
}

const forward = (n: number) => Array.from({ length: n }, (_, i) => i);
const shuffled = (n: number, seed: number) => {
  const r = new SeededRandom(seed);
  const out = forward(n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r.uniform() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

describe('combine', () => {
  const input: LocalizeReasoningInput = { modelDir: '/models/m', examples: Array.from({ length: 37 }, (_, i) => example(i)), options: options([0, 2, 3, 5, 8, 9, 10, 11, 13], 3) };

  test('zero ablation: every cut and every arrival order gives the single unit\'s rows', async () => {
    const whole = planLocalizeReasoning(input, FILES, WHOLE_RUN);
    expect(whole.units).toHaveLength(1);
    const expected = await combineIn(whole, reasoningUnit, [0]);
    // 37 examples x 9 layers: one clean row and 9 ablated rows per example; 1 + 9 x 2 metrics x (2 tasks + all)
    expect(expected.exampleResults).toHaveLength(37 * 10);
    expect(expected.layerEffects).toHaveLength(3 + 9 * 2 * 3);
    for (const cut of [{ examplesPerUnit: 1, layersPerUnit: 1 }, { examplesPerUnit: 5, layersPerUnit: 4 }, { examplesPerUnit: 16, layersPerUnit: 7 }] satisfies UnitCut[]) {
      const plan = planLocalizeReasoning(input, FILES, cut);
      expect(plan.units.length).toBeGreaterThan(1);
      for (const order of [forward(plan.units.length), forward(plan.units.length).reverse(), shuffled(plan.units.length, 3)]) {
        expect(await combineIn(plan, reasoningUnit, order), JSON.stringify(cut)).toStrictEqual(expected);
      }
    }
  });

  test('zero ablation: the drop is clean accuracy minus ablated accuracy, per layer, from the outcomes', async () => {
    const plan = planLocalizeReasoning(input, FILES, { examplesPerUnit: 4, layersPerUnit: 2 });
    const { layerEffects } = await combineIn(plan, reasoningUnit, shuffled(plan.units.length, 5));
    const clean = input.examples.filter((_, i) => answerOf(i, null).correct).length / input.examples.length;
    for (const layer of input.options.layers) {
      const ablated = input.examples.filter((_, i) => answerOf(i, layer).correct).length / input.examples.length;
      const row = (metric: string) => layerEffects.find((r) => r.layerIndex === layer + 1 && r.task === 'all' && r.metric === metric)!;
      expect(row('accuracy').value).toBeCloseTo(ablated, 12);
      expect(row('accuracy_drop').value).toBeCloseTo(clean - ablated, 12);
    }
  });

  test('variant scores: rows in single-pass order (batch by batch, condition by condition) for any cut', async () => {
    const scoreInput: ScoreVariantInput = { variant: { modelDir: '/models/m' }, examples: input.examples, setting: 'perception', options: options([], 4) };
    const unit = (u: WorkUnit): ScoreVariantUnitResult => {
      const idx = (u.input as ScoreVariantInput).examples.map((e) => Number(e.id.slice(1)));
      return { conditions: [0, 1].map((c) => idx.map((i) => answerOf(i, c))) };
    };
    const whole = await combineIn(planScoreVariant(scoreInput, FILES, WHOLE_RUN), unit, [0]);
    // the first batch's four examples under 'image', then the same four under 'black_image'
    expect(whole.exampleResults.slice(0, 8).map((r) => `${r.exampleId}:${r.condition}`)).toEqual([
      'e000:image', 'e001:image', 'e002:image', 'e003:image', 'e000:black_image', 'e001:black_image', 'e002:black_image', 'e003:black_image',
    ]);
    const plan = planScoreVariant(scoreInput, FILES, { examplesPerUnit: 8, layersPerUnit: 1 });
    expect(plan.units.length).toBe(5);
    expect(await combineIn(plan, unit, shuffled(plan.units.length, 9))).toStrictEqual(whole);
  });

  test('a unit result that does not cover its unit is refused, naming what is short', async () => {
    const plan = planLocalizeReasoning(input, FILES, { examplesPerUnit: 6, layersPerUnit: 3 });
    const results = plan.units.map(reasoningUnit);
    results[2] = { ...results[2]!, ablated: results[2]!.ablated.map((l) => l.slice(1)) };
    expect(() => plan.combine(results)).toThrow(/the result of unit 2 holds 5 ablated answers for its 6 examples/);
    expect(() => plan.combine(plan.units.map(reasoningUnit).slice(0, -1))).toThrow(`the result of unit ${plan.units.length - 1} is missing`);
  });
});
