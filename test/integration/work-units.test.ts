/**
 * Every analysis kind as a plan of work units (issue 17, part A): the rows
 * combined from units (run one by one, in any order, each result
 * round-tripped through its byte encoding) are bit-identical to the rows of
 * the same analysis run as one unit (toStrictEqual: every float bit, -0 kept),
 * and to the rows the service stored; the
 * cut is a pure function of the request.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { planActivationPatching } from '../../src/engine/analyses/activation-patching.js';
import { planAttentionShift } from '../../src/engine/analyses/attention-shift.js';
import { planLocalizeReasoning } from '../../src/engine/analyses/localize-reasoning.js';
import { planLocalizeVision } from '../../src/engine/analyses/localize-vision.js';
import { planScoreVariant } from '../../src/engine/analyses/score-variant.js';
import type { AnalysisResult } from '../../src/engine/analyses/types.js';
import { WHOLE_RUN, type UnitCut } from '../../src/engine/analyses/unit-cut.js';
import type { CharacterizationResult } from '../../src/engine/characterize/characterize.js';
import { planCharacterization } from '../../src/engine/characterize/units.js';
import { writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { ModelWorker } from '../../src/engine/runtime/model-worker.js';
import { decodeUnitResult, encodeUnitResult, type UnitInput, type UnitPlan, type WorkUnit } from '../../src/engine/units/work-unit.js';
import { AnalysisService } from '../../src/services/analysis-service.js';
import { RunManager, type RunHandle, type RunSpec } from '../../src/services/run-manager.js';
import { InProcessExecutor } from '../../src/services/units/in-process-executor.js';
import type { UnitExecutor } from '../../src/services/units/unit-executor.js';
import { createTestApp, registerPlantedTrio, type TestApp } from '../helpers/test-app.js';
import { writeCountingPairs, writeJsonlProbes } from '../helpers/probe-fixtures.js';

let t: TestApp;
let worker: ModelWorker;
const N_LAYERS = 12;
/** finer than any run uses: one batch and two layers per unit, so every kind has many units */
const FINE: UnitCut = { examplesPerUnit: 1, layersPerUnit: 2 };

beforeAll(async () => {
  t = await createTestApp();
  await registerPlantedTrio(t);
  await writeTinyTrio(join(t.dir, 'models', 'tiny'), { numLayers: N_LAYERS });
  const probes = join(t.dir, 'models', 'probes');
  // 20 pairs: two example ranges of the default cut at batch size 8
  await writeCountingPairs(join(probes, 'pairs'), 20);
  await writeJsonlProbes(join(probes, 'questions'), [
    ...Array.from({ length: 9 }, (_, i) => ({ id: `q${i}`, prompt: i % 3 === 0 ? '<image>Count the squares.' : `What is ${i} + 1?`, image: i % 3 === 0, answer: String(i + 1) })),
    ...Array.from({ length: 5 }, (_, i) => ({ id: `p${i}`, prompt: '<image>How many squares?', image: true, answer: String(2 + (i % 3)), split: 'perception' })),
  ]);
  for (const role of ['base', 'sft', 'rl']) expect((await t.execute(`mutation { registerCheckpoint(path: "tiny/${role}") { id } }`)).errors).toBeUndefined();
  for (const set of ['pairs', 'questions']) expect((await t.execute(`mutation { registerProbeSet(path: "probes/${set}", name: "${set}") { id } }`)).errors).toBeUndefined();
  worker = await ModelWorker.create({ threads: 1 });
}, 180_000);

afterAll(async () => {
  await worker?.release();
  await t?.close();
});

/** Starts a run through a service and returns its handle with the spec the service gave the run manager. */
async function started<R>(start: () => Promise<RunHandle>): Promise<{ handle: RunHandle; spec: RunSpec<R> }> {
  const spy = vi.spyOn(t.app.services.runs, 'startOrJoin');
  try {
    const handle = await start();
    return { handle, spec: spy.mock.calls.at(-1)![0] as RunSpec<R> };
  } finally {
    spy.mockRestore();
  }
}

/** Runs a plan's units one at a time in the given order, each result through its bytes, then combines. */
async function runPlan<R>(plan: UnitPlan<R>, order: 'forward' | 'reverse' | 'interleaved'): Promise<R> {
  const units = [...plan.units];
  if (order === 'reverse') units.reverse();
  if (order === 'interleaved') units.sort((a, b) => (a.index % 2) - (b.index % 2) || b.index - a.index);
  const results: unknown[] = new Array(units.length);
  for (const unit of units) results[unit.index] = decodeUnitResult(encodeUnitResult(await worker.run(unit.module, unit.exportName, unit.input)));
  return plan.combine(results);
}


const PLANNERS: Record<string, (input: never, files: readonly UnitInput[], cut: UnitCut) => UnitPlan<AnalysisResult>> = {
  localizeReasoningUnit: planLocalizeReasoning,
  localizeVisionUnit: planLocalizeVision,
  attentionShiftUnit: planAttentionShift,
  activationPatchingUnit: planActivationPatching,
  scoreVariantUnit: planScoreVariant,
};

/** The whole run's engine input, read back from the units of a plan: the first layer group's examples, every unit's layers. */
function wholeInput(units: readonly WorkUnit[]): never {
  const inputs = units.map((u) => u.input as { examples: { id: string }[]; options: { layers: number[] } });
  const firstGroup = inputs.filter((i) => i.options.layers[0] === inputs[0]!.options.layers[0]);
  const layers = [...new Set(inputs.flatMap((i) => i.options.layers))].sort((a, b) => a - b);
  return { ...inputs[0]!, examples: firstGroup.flatMap((i) => i.examples), options: { ...inputs[0]!.options, layers } } as never;
}

const effectKey = (r: { layerIndex: number | null; task: string; metric: string }) => `${r.layerIndex ?? -1}|${r.task}|${r.metric}`;
const exampleKey = (r: { exampleId: string; layerIndex: number | null; condition: string }) => `${r.exampleId}|${r.layerIndex ?? -1}|${r.condition}`;

/** The analysis rows the warehouse holds for a run, in the same shape and order as `expected`'s. */
async function storedRows(runId: string): Promise<{ layerEffects: unknown[]; exampleResults: unknown[] }> {
  const w = t.app.services.warehouse;
  const [effects] = await w.layerEffects([runId]);
  const examples = await w.exampleResults({ runId, first: 1000 });
  return {
    layerEffects: effects!.map(({ runId: _r, ...rest }) => rest).sort((a, b) => effectKey(a).localeCompare(effectKey(b))),
    exampleResults: examples.map(({ runId: _r, ...rest }) => rest).sort((a, b) => exampleKey(a).localeCompare(exampleKey(b))),
  };
}

function sortedRows(r: AnalysisResult): AnalysisResult {
  return {
    layerEffects: [...r.layerEffects].sort((a, b) => effectKey(a).localeCompare(effectKey(b))),
    exampleResults: [...r.exampleResults].sort((a, b) => exampleKey(a).localeCompare(exampleKey(b))),
  };
}

/**
 * The checks every functional kind passes: the default plan has several units
 * of plain JSON, is the same on every call, and its rows, a finer cut's and a
 * single unit's are bit-identical and equal to what the service stored.
 */
async function checkAnalysis(start: () => Promise<RunHandle>, minUnits: number): Promise<UnitPlan<AnalysisResult>> {
  const { handle, spec } = await started<AnalysisResult>(start);
  await handle.settled;
  const [run] = await t.app.services.warehouse.getRuns([handle.runId]);
  expect(run!.error).toBeNull();
  expect(run!.status).toBe('DONE');
  expect(spec.compute).toBeUndefined();
  const plan = await spec.plan!();
  expect(plan.units.length).toBeGreaterThanOrEqual(minUnits);
  expect(plan.units.map((u) => u.index)).toEqual(plan.units.map((_, i) => i));
  // units are plain data: JSON keeps every bit of them, and the cut is a pure function of the request
  expect(JSON.parse(JSON.stringify(plan.units))).toStrictEqual(plan.units);
  expect(JSON.stringify((await spec.plan!()).units)).toBe(JSON.stringify(plan.units));
  expect(new Set(plan.units.map((u) => u.label)).size).toBe(plan.units.length);
  // example ranges are whole batches: only the range holding the last example may end mid-batch
  const batchSize = (plan.units[0]!.input as { options: { batchSize: number } }).options.batchSize;
  const lastId = (plan.units.at(-1)!.input as { examples: { id: string }[] }).examples.at(-1)!.id;
  for (const unit of plan.units) {
    const ids = (unit.input as { examples: { id: string }[] }).examples.map((e) => e.id);
    if (!ids.includes(lastId)) expect(ids.length % batchSize, unit.label).toBe(0);
  }

  const planner = PLANNERS[plan.units[0]!.exportName]!;
  const input = wholeInput(plan.units);
  const whole = planner(input, plan.units[0]!.inputs, WHOLE_RUN);
  const fine = planner(input, plan.units[0]!.inputs, FINE);
  expect(whole.units).toHaveLength(1);
  expect(fine.units.length).toBeGreaterThan(plan.units.length);

  const single = await runPlan(whole, 'forward');
  expect(single.exampleResults.length).toBeGreaterThan(0);
  expect(await runPlan(plan, 'reverse')).toStrictEqual(single);
  expect(await runPlan(fine, 'interleaved')).toStrictEqual(single);
  expect(await storedRows(handle.runId)).toStrictEqual(sortedRows(single));
  return plan;
}

/** What a unit's `inputs` must name: these checkpoints and the probe set, by absolute path and fingerprint. */
async function expectInputs(plan: UnitPlan<unknown>, checkpointIds: string[], probeSetId: string): Promise<void> {
  const rows = await t.app.services.warehouse.getCheckpoints(checkpointIds);
  const { row: probe } = await t.app.services.probeSets.load(probeSetId);
  for (const unit of plan.units) {
    for (const row of rows) expect(unit.inputs).toContainEqual(expect.objectContaining({ path: row!.path, fingerprint: row!.fingerprint }));
    expect(unit.inputs).toContainEqual({ role: 'probeSet', path: probe.root, fingerprint: probe.fingerprint });
    for (const i of unit.inputs) expect(i.path.startsWith('/')).toBe(true);
  }
}

describe('work units: each kind combines to the single pass rows', () => {
  const o = { batchSize: 8, bootstrapSamples: 200, seed: 5 };

  test('localization VISUAL_TOKEN_SWAP (generate and teacher forced)', async () => {
    const a = t.app.services.analyses;
    const plan = await checkAnalysis(() => a.localization('tiny/sft', 'pairs', 'VISUAL_TOKEN_SWAP', { ...o, maxNewTokens: 3 }), 4);
    // 20 pairs at batch size 8: examples 1-16 and 17-20; 12 layers: groups of 7 and 5
    expect(plan.units.map((u) => u.label)).toEqual(['layers 1-7 x examples 1-16', 'layers 8-12 x examples 1-16', 'layers 1-7 x examples 17-20', 'layers 8-12 x examples 17-20']);
    await expectInputs(plan, ['tiny/sft'], 'pairs');
    await checkAnalysis(() => a.localization('tiny/rl', 'pairs', 'VISUAL_TOKEN_SWAP', { ...o, batchSize: 3, layers: [2, 5, 9], scoring: 'TEACHER_FORCED' }), 2);
  }, 180_000);

  test('localization ZERO_ABLATION (generate and teacher forced)', async () => {
    const a = t.app.services.analyses;
    await checkAnalysis(() => a.localization('tiny/sft', 'questions', 'ZERO_ABLATION', { ...o, batchSize: 4, maxNewTokens: 3 }), 2);
    await checkAnalysis(() => a.localization('tiny/rl', 'questions', 'ZERO_ABLATION', { ...o, batchSize: 1, scoring: 'TEACHER_FORCED' }), 2);
  }, 180_000);

  test('attention shift (every layer in each unit: one forward pass measures them all)', async () => {
    const plan = await checkAnalysis(() => t.app.services.analyses.attentionShift('tiny/sft', 'tiny/rl', 'pairs', { ...o, batchSize: 4 }), 2);
    expect(plan.units.map((u) => u.label)).toEqual(['layers 1-12 x examples 1-16', 'layers 1-12 x examples 17-20']);
    await expectInputs(plan, ['tiny/sft', 'tiny/rl'], 'pairs');
  }, 180_000);

  test('activation patching (generate and teacher forced)', async () => {
    const a = t.app.services.analyses;
    const plan = await checkAnalysis(() => a.activationPatching('tiny/sft', 'tiny/rl', 'questions', { ...o, batchSize: 2, maxNewTokens: 3 }), 2);
    expect(plan.units[0]!.inputs.map((i) => i.role)).toEqual(['target', 'source', 'probeSet']);
    await checkAnalysis(() => a.activationPatching('tiny/rl', 'tiny/sft', 'questions', { ...o, batchSize: 1, layers: [1, 4, 12], scoring: 'TEACHER_FORCED' }), 1);
  }, 180_000);

  test('variant scores: a plain model and a recipe, whose units name every checkpoint of it', async () => {
    const v = t.app.services.variants;
    const plain = await v.resolve({ model: 'tiny/rl' });
    const preset = await v.resolve({ preset: 'in_early__rl_middle_late', sft: 'tiny/sft', rl: 'tiny/rl' });
    await checkAnalysis(() => v.score(plain, 'questions', 'perception', { ...o, batchSize: 2, maxNewTokens: 3 }), 1);
    const plan = await checkAnalysis(() => v.score(preset, 'questions', 'reasoning', { ...o, batchSize: 1, maxNewTokens: 3 }), 1);
    await expectInputs(plan, ['tiny/sft', 'tiny/rl'], 'questions');
    await checkAnalysis(() => v.score(preset, 'questions', 'perception', { ...o, batchSize: 2, scoring: 'TEACHER_FORCED' }), 1);
  }, 180_000);

  test('characterization: tensor ranges through the model worker', async () => {
    const { handle, spec } = await started<CharacterizationResult>(() => t.app.services.characterizations.start({ base: 'planted/base', sft: 'planted/sft', rl: 'planted/rl', options: { topK: 4 } }));
    await handle.settled;
    const plan = await spec.plan!();
    expect(plan.units.length).toBeGreaterThan(3);
    expect(JSON.parse(JSON.stringify(plan.units))).toStrictEqual(plan.units);
    expect(JSON.stringify((await spec.plan!()).units)).toBe(JSON.stringify(plan.units));
    const rows = await t.app.services.warehouse.getCheckpoints(['planted/base', 'planted/sft', 'planted/rl']);
    expect(plan.units[0]!.inputs).toEqual(rows.map((r, i) => ({ role: ['base', 'sft', 'rl'][i], path: r!.path, fingerprint: r!.fingerprint })));
    const request = { trio: { base: rows[0]!, sft: rows[1]!, rl: rows[2]! }, topK: 4, weightFilter: null, layerCuts: (spec.params as { layerCuts: number[] }).layerCuts };
    const single = await runPlan(await planCharacterization(request, Infinity), 'forward');
    const fine = await planCharacterization(request, 5);
    expect(fine.units.length).toBeGreaterThan(plan.units.length);
    expect(await runPlan(plan, 'reverse')).toStrictEqual(single);
    expect(await runPlan(fine, 'interleaved')).toStrictEqual(single);
    // what the service stored
    const stored = await t.app.services.warehouse.readOnlySql(`SELECT tensor_name, fro_norm, spectral_norm FROM tensor_stats WHERE run_id = '${handle.runId}' AND phase = 'rl' ORDER BY tensor_name`);
    expect(stored.rows).toEqual([...single.tensors].sort((a, b) => (a.name < b.name ? -1 : 1)).map((x) => [x.name, x.rl.froNorm, x.rl.spectralNorm]));
  }, 180_000);
});

describe('work units: executors', () => {
  test('another executor (as a queue of workers would) gets the same units and stores the same rows', async () => {
    const { warehouse, registry, probeSets } = t.app.services;
    const request = () => t.app.services.analyses.localization('tiny/sft', 'questions', 'ZERO_ABLATION', { batchSize: 2, bootstrapSamples: 100, maxNewTokens: 3, layers: [3, 7, 8] });
    const first = await started<AnalysisResult>(request);
    await first.handle.settled;
    const seen: WorkUnit[] = [];
    const inner = new InProcessExecutor(async () => worker);
    const recording: UnitExecutor = {
      name: 'recording',
      run: (runId, units, hooks) => {
        seen.push(...units);
        return inner.run(runId, [...units].reverse(), hooks);
      },
    };
    // another engine version keys a fresh run, so it is computed again rather than served from the cache
    const other = new AnalysisService(warehouse, registry, probeSets, new RunManager(warehouse, 'other-engine', recording));
    const second = await other.localization('tiny/sft', 'questions', 'ZERO_ABLATION', { batchSize: 2, bootstrapSamples: 100, maxNewTokens: 3, layers: [3, 7, 8] });
    await second.settled;
    expect(second.runId).not.toBe(first.handle.runId);
    expect(JSON.stringify(seen)).toBe(JSON.stringify((await first.spec.plan!()).units));
    expect(await storedRows(second.runId)).toStrictEqual(await storedRows(first.handle.runId));
  }, 180_000);

  test('progress inside a unit reaches the executor with the unit message, from 0 to 1', async () => {
    const { handle, spec } = await started<AnalysisResult>(() => t.app.services.analyses.localization('tiny/rl', 'questions', 'ZERO_ABLATION', { batchSize: 4, maxNewTokens: 3, layers: [1, 2] }));
    // settled first: tearing the app down while its worker computes would kill the process
    await handle.settled;
    const plan = await spec.plan!();
    const progress: { unit: number; fraction: number; message?: string }[] = [];
    const done: number[] = [];
    await new InProcessExecutor(async () => worker).run('progress-check', plan.units, {
      signal: new AbortController().signal,
      onUnitProgress: (unit, fraction, message) => progress.push({ unit: unit.index, fraction, message }),
      onUnitDone: async (unit) => {
        done.push(unit.index);
      },
    });
    expect(done).toEqual(plan.units.map((u) => u.index));
    for (const unit of plan.units) {
      const mine = progress.filter((p) => p.unit === unit.index);
      expect(mine.at(-1)!.fraction).toBe(1);
      expect(mine.every((p) => p.fraction > 0 && p.fraction <= 1)).toBe(true);
      expect(mine.some((p) => /batch 1\/\d+: clean answers/.test(p.message ?? ''))).toBe(true);
      expect(mine.some((p) => /layer 2 ablated/.test(p.message ?? ''))).toBe(true);
    }
  }, 180_000);

  test('a characterization unit reports each tensor with its place in the whole plan', async () => {
    const rows = await t.app.services.warehouse.getCheckpoints(['planted/base', 'planted/sft', 'planted/rl']);
    const plan = await planCharacterization({ trio: { base: rows[0]!, sft: rows[1]!, rl: rows[2]! }, topK: 2, weightFilter: 'mlp' }, 4);
    const total = plan.units.reduce((n, u) => n + (u.input as { tensors: string[] }).tensors.length, 0);
    const messages: string[] = [];
    await new InProcessExecutor(async () => worker).run('progress-check', plan.units.slice(1, 2), {
      signal: new AbortController().signal,
      onUnitProgress: (_unit, _fraction, message) => messages.push(message ?? ''),
      onUnitDone: async () => {},
    });
    const tensors = (plan.units[1]!.input as { tensors: string[] }).tensors;
    expect(messages).toEqual(tensors.map((name, i) => `${4 + i + 1}/${total} ${name}`));
  }, 60_000);
});
