import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InputBuilder } from '../../src/engine/analyses/prepare.js';
import { writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { TextTokenizer } from '../../src/engine/model/tokenizer.js';
import { CheckpointWeights } from '../../src/engine/runtime/weights.js';
import { HookedRunner } from '../../src/engine/runtime/runner.js';
import { buildAppSchema } from '../../src/resolvers/build-schema.js';
import { createRequestContext, type RequestContext } from '../../src/resolvers/context.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { writeCountingPairs, writeJsonlProbes } from '../helpers/probe-fixtures.js';
import { REFERENCE_DATASET, requireReferenceDataset } from '../helpers/reference-dataset.js';

let t: TestApp;
const N_LAYERS = 12;

interface Effect { index: number | null; task: string; metric: string; value: number; ciLow: number | null; ciHigh: number | null; n: number }

/** The SFT model's own greedy answers to a few prompts: gold answers it gets right by construction. */
async function ownAnswers(dir: string, prompts: { id: string; prompt: string; image?: boolean }[], probeRoot: string): Promise<{ id: string; prompt: string; answer: string; image?: boolean }[]> {
  const weights = await CheckpointWeights.open(dir);
  const runner = await HookedRunner.create({ weights });
  try {
    const builder = new InputBuilder(runner.config, await TextTokenizer.load(dir));
    const inputs = await Promise.all(prompts.map((p, i) => builder.input({
      id: p.id, task: 'free', split: 'reasoning', prompt: p.prompt, images: { target: null, source: null }, answers: { target: 'x', source: null },
      description: null, tags: [], meta: {}, targetImagePath: p.image ? join(probeRoot, `img/q${i}.png`) : null, sourceImagePath: null,
    }, p.image ? 'target' : 'none')));
    const r = await runner.generate(inputs, { maxNewTokens: 6 });
    return prompts.map((p, i) => ({ ...p, answer: builder.decode(r.tokens[i]!) })).filter((p) => p.answer.trim().replace(/[\p{P}\s]+$/u, '').length > 0);
  } finally {
    await runner.release();
    await weights.close();
  }
}

async function effects(query: string): Promise<{ status: string; runId: string; layers: Effect[]; errors?: unknown }> {
  const r = await t.execute<any>(query);
  if (r.errors) return { status: 'ERROR', runId: '', layers: [], errors: r.errors };
  const root = Object.values(r.data as Record<string, any>)[0];
  return { status: root.status, runId: root.run.id, layers: root.layers };
}

const rows = (layers: Effect[], metric: string, task = 'all') => layers.filter((l) => l.metric === metric && l.task === task);
const FIELDS = 'status run { id error } layers { index task metric value ciLow ciHigh n }';

beforeAll(async () => {
  t = await createTestApp();
  const models = join(t.dir, 'models', 'tiny');
  await writeTinyTrio(models, { numLayers: N_LAYERS });
  const probes = join(t.dir, 'models', 'probes');
  await writeCountingPairs(join(probes, 'pairs'), 5);
  await writeCountingPairs(join(probes, 'same'), 4, { sameSource: true });
  // the images must exist before the model answers about them
  const questions = [
    { id: 'q0', prompt: '<image>What is shown?', image: true },
    { id: 'q1', prompt: 'What is 2 + 3?' },
    { id: 'q2', prompt: 'Name a colour.' },
    { id: 'q3', prompt: '<image>Count the squares.', image: true },
    { id: 'q4', prompt: 'Say hello.' },
  ];
  await writeJsonlProbes(join(probes, 'own'), questions.map((q) => ({ ...q, answer: 'placeholder' })));
  const own = await ownAnswers(join(models, 'sft'), questions, join(probes, 'own'));
  expect(own.length).toBeGreaterThanOrEqual(3);
  await writeJsonlProbes(join(probes, 'own'), questions.map((q) => ({ ...q, answer: own.find((o) => o.id === q.id)?.answer ?? 'never said' })));
  for (const role of ['base', 'sft', 'rl']) {
    const r = await t.execute(`mutation { registerCheckpoint(path: "tiny/${role}") { id } }`);
    expect(r.errors).toBeUndefined();
  }
  for (const set of ['pairs', 'same', 'own']) {
    const r = await t.execute(`mutation { registerProbeSet(path: "probes/${set}", name: "${set}") { id } }`);
    expect(r.errors).toBeUndefined();
  }
}, 180_000);

afterAll(async () => {
  await t?.close();
});

describe('probe sets over GraphQL', () => {
  test('registered sets list their size, tasks, splits and examples', async () => {
    const r = await t.execute<any>('{ probeSets { id format exampleCount tasks splits fingerprint } }');
    const pairs = r.data.probeSets.find((p: { id: string }) => p.id === 'pairs');
    expect(pairs).toMatchObject({ format: 'reference', exampleCount: 5, tasks: ['counting'], splits: ['pairs'] });
    const ex = await t.execute<any>('{ probeSets { id examples(first: 2) { id task prompt answers } } }');
    const first = ex.data.probeSets.find((p: { id: string }) => p.id === 'pairs').examples;
    expect(first.map((e: { id: string }) => e.id)).toEqual(['counting_000000', 'counting_000001']);
    expect(first[0].answers).toEqual({ target: '1', source: '5' });
  });

  test('a broken probe file is refused with its reason and nothing is registered', async () => {
    const bad = join(t.dir, 'models', 'probes', 'bad');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'probes.jsonl'), '{"id": "a", "split": "x", "prompt": "hi", "answer": "1"}\n{"id": "b", oops}\n');
    const r = await t.execute<any>('mutation { registerProbeSet(path: "probes/bad") { id } }');
    expect(r.errors![0]!.extensions!.code).toBe('PROBE_SET_INVALID');
    expect(r.errors![0]!.extensions!.reason).toBe('BAD_JSON');
    expect(r.errors![0]!.message).toMatch(/probes\.jsonl:2: not valid JSON/);
    const list = await t.execute<any>('{ probeSets { id } }');
    expect(list.data.probeSets.map((p: { id: string }) => p.id)).not.toContain('probes/bad');
  });
});

describe('localization', () => {
  test('swapping visual keys/values with the same image changes nothing at any layer', async () => {
    const e = await effects(`{ localization(model: "tiny/sft", probeSet: "same", method: VISUAL_TOKEN_SWAP, options: { layers: [1, 6, 12], maxNewTokens: 4 }, waitSeconds: 120) { ${FIELDS} } }`);
    expect(e.status).toBe('DONE');
    const change = rows(e.layers, 'change_rate');
    expect(change.map((r) => r.index)).toEqual([1, 6, 12]);
    for (const r of change) {
      expect(r.value).toBe(0);
      expect(r.n).toBe(4);
    }
  }, 120_000);

  test('swap rows on real pairs carry intervals around the value, and a repeat is served from the warehouse', async () => {
    const q = `{ localization(model: "tiny/sft", probeSet: "pairs", method: VISUAL_TOKEN_SWAP, options: { layers: [1, 12], scoring: TEACHER_FORCED }, waitSeconds: 120) { ${FIELDS} } }`;
    const e = await effects(q);
    expect(e.status).toBe('DONE');
    for (const metric of ['change_rate', 'transfer_rate', 'accuracy']) {
      for (const r of rows(e.layers, metric, 'counting')) {
        expect(r.n).toBe(5);
        expect(r.ciLow!).toBeLessThanOrEqual(r.value);
        expect(r.ciHigh!).toBeGreaterThanOrEqual(r.value);
      }
    }
    expect((await effects(q)).runId).toBe(e.runId);
    const ex = await t.execute<any>(`{ localization(model: "tiny/sft", probeSet: "pairs", method: VISUAL_TOKEN_SWAP, options: { layers: [1, 12], scoring: TEACHER_FORCED }) { examples(layer: 12) { exampleId layer condition changed transferred score } } }`);
    expect(ex.data.localization.examples).toHaveLength(5);
    expect(ex.data.localization.examples.every((x: { layer: number; condition: string }) => x.layer === 12 && x.condition === 'swap')).toBe(true);
  }, 120_000);

  test('zero ablation: the clean baseline is right by construction and each drop is 1 - ablated accuracy', async () => {
    const e = await effects(`{ localization(model: "tiny/sft", probeSet: "own", method: ZERO_ABLATION, options: { maxNewTokens: 6 }, waitSeconds: 120) { ${FIELDS} } }`);
    expect(e.status).toBe('DONE');
    const baseline = rows(e.layers, 'accuracy').find((r) => r.index === null)!;
    const own = await t.execute<any>('{ probeSets { id exampleCount } }');
    const n = own.data.probeSets.find((p: { id: string }) => p.id === 'own').exampleCount;
    // examples whose gold is 'never said' (the model said nothing) are wrong by construction
    expect(baseline.value * n).toBeGreaterThanOrEqual(3);
    const acc = rows(e.layers, 'accuracy').filter((r) => r.index !== null);
    const drop = rows(e.layers, 'accuracy_drop');
    expect(acc.map((r) => r.index)).toEqual(Array.from({ length: N_LAYERS }, (_, i) => i + 1));
    for (const d of drop) expect(d.value).toBeCloseTo(baseline.value - acc.find((a) => a.index === d.index)!.value, 12);
  }, 120_000);
});

describe('inference-time shift', () => {
  test('attention shift of a model against itself is exactly zero', async () => {
    const e = await effects(`{ attentionShift(a: "tiny/sft", b: "tiny/sft", probeSet: "pairs", waitSeconds: 120) { ${FIELDS} } }`);
    expect(e.status).toBe('DONE');
    const a = rows(e.layers, 'attention_mass_a');
    expect(a).toHaveLength(N_LAYERS);
    for (const r of a) {
      expect(r.value).toBeGreaterThan(0);
      expect(r.value).toBeLessThanOrEqual(1);
    }
    for (const r of rows(e.layers, 'attention_mass_diff')) expect(r.value).toBe(0);
  }, 120_000);

  test('patching a model with itself changes no answer', async () => {
    const e = await effects(`{ activationPatching(target: "tiny/sft", source: "tiny/sft", probeSet: "own", options: { layers: [1, 7, 12], maxNewTokens: 6 }, waitSeconds: 120) { ${FIELDS} } }`);
    expect(e.status).toBe('DONE');
    const baseline = rows(e.layers, 'accuracy_target')[0]!;
    for (const r of rows(e.layers, 'source_answer_rate')) expect(r.value).toBe(1);
    for (const r of rows(e.layers, 'accuracy').filter((x) => x.index !== null)) expect(r.value).toBe(baseline.value);
  }, 120_000);

  test("patching after the last layer recovers all of the source's log-probability (shared head)", async () => {
    const e = await effects(`{ activationPatching(target: "tiny/sft", source: "tiny/rl", probeSet: "own", options: { layers: [${N_LAYERS}], scoring: TEACHER_FORCED }, waitSeconds: 120) { ${FIELDS} } }`);
    expect(e.status).toBe('DONE');
    const recovered = rows(e.layers, 'logprob_recovered');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.value).toBeCloseTo(1, 4);
  }, 120_000);
});

describe('bad analysis requests', () => {
  test('each gets a specific error and starts no run', async () => {
    const before = await t.execute<any>('{ runs(first: 1000) { id } }');
    const cases: [string, string][] = [
      ['{ localization(model: "tiny/sft", probeSet: "own", method: VISUAL_TOKEN_SWAP) { status } }', 'BAD_USER_INPUT'],
      ['{ localization(model: "tiny/sft", probeSet: "pairs", method: ZERO_ABLATION, options: { layers: [0] }) { status } }', 'BAD_USER_INPUT'],
      ['{ localization(model: "tiny/sft", probeSet: "pairs", method: ZERO_ABLATION, options: { layers: [13] }) { status } }', 'BAD_USER_INPUT'],
      ['{ localization(model: "tiny/sft", probeSet: "pairs", method: ZERO_ABLATION, options: { tasks: ["nope"] }) { status } }', 'BAD_USER_INPUT'],
      ['{ localization(model: "tiny/sft", probeSet: "nope", method: ZERO_ABLATION) { status } }', 'NOT_FOUND'],
      ['{ localization(model: "planted/sft", probeSet: "pairs", method: ZERO_ABLATION) { status } }', 'NOT_FOUND'],
      ['{ attentionShift(a: "tiny/sft", b: "tiny/nope", probeSet: "pairs") { status } }', 'NOT_FOUND'],
    ];
    for (const [q, code] of cases) {
      const r = await t.execute<any>(q);
      expect(r.errors?.[0]?.extensions?.code, q).toBe(code);
    }
    const after = await t.execute<any>('{ runs(first: 1000) { id } }');
    expect(after.data.runs.length).toBe(before.data.runs.length);
  });
});

const REFERENCE = REFERENCE_DATASET;
/** The one damaged file of the published set: cut off at 262144 bytes, no JPEG end marker. */
const TRUNCATED = 'recognition/images/recognition_000058_t.jpg';

describe('the published reference probe set', () => {
  test('registers over GraphQL without its one truncated image: 399 pairs in 4 tasks, the left-out pair named, and analyses run on it', async () => {
    requireReferenceDataset();
    const { createApp } = await import('../../src/app.js');
    const app = await createApp({ ...t.config, warehousePath: join(t.dir, 'ref.duckdb'), modelRoots: [REFERENCE, join(t.dir, 'models')] }, { registerDemo: false });
    const apollo = new ApolloServer<RequestContext>({ schema: await buildAppSchema(), includeStacktraceInErrorResponses: false });
    await apollo.start();
    const execute = async (query: string, variables?: Record<string, unknown>): Promise<{ data?: any; errors?: readonly GraphQLFormattedError[] }> => {
      const response = await apollo.executeOperation({ query, variables }, { contextValue: createRequestContext(app.services) });
      if (response.body.kind !== 'single') throw new Error('unexpected incremental response');
      return response.body.singleResult as never;
    };
    const stored = async () => (await app.services.warehouse.readOnlySql('SELECT (SELECT count(*) FROM probe_sets), (SELECT count(*) FROM examples)')).rows[0];
    try {
      // by default the damaged file refuses the whole set, naming the file and the example, and stores nothing
      const refused = await execute('mutation($p: String!) { registerProbeSet(path: $p, name: "reference/vision") { id } }', { p: REFERENCE });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'PROBE_SET_INVALID', reason: 'BAD_IMAGE' });
      expect(refused.errors![0]!.message).toContain(`'${TRUNCATED}'`);
      expect(refused.errors![0]!.message).toContain("(example 'recognition_000058')");
      expect(refused.errors![0]!.message).toContain('skipInvalidExamples');
      expect(await stored()).toEqual([0, 0]);

      const r = await execute(
        'mutation($p: String!) { registerProbeSet(path: $p, name: "reference/vision", skipInvalidExamples: true) { id exampleCount skippedCount skipped { id code reason } tasks splits fingerprint } }',
        { p: REFERENCE },
      );
      expect(r.errors).toBeUndefined();
      const set = r.data.registerProbeSet;
      expect(set).toMatchObject({ id: 'reference/vision', exampleCount: 399, skippedCount: 1, tasks: ['counting', 'grounding', 'ocr', 'recognition'], splits: ['pairs'] });
      expect(set.skipped).toEqual([{ id: 'recognition_000058', code: 'BAD_IMAGE', reason: expect.stringContaining(`'target_image' = '${TRUNCATED}' is not a PNG or JPEG image that decodes`) }]);
      const perTask = await app.services.warehouse.readOnlySql(
        `SELECT e.task, count(*) FROM examples e JOIN probe_sets p ON p.fingerprint = e.probe_set_fingerprint WHERE p.id = 'reference/vision' GROUP BY 1 ORDER BY 1`,
      );
      expect(perTask.rows).toEqual([['counting', 100], ['grounding', 100], ['ocr', 100], ['recognition', 99]]);
      const [ocr] = await app.services.warehouse.examples('reference/vision', { task: 'ocr', first: 1 });
      expect(ocr!.answers).toEqual({ target: 'backpropagation', source: 'singular' });
      const listed = await execute('{ probeSets { id skippedCount skipped { id } } }');
      expect(listed.data.probeSets).toEqual([{ id: 'reference/vision', skippedCount: 1, skipped: [{ id: 'recognition_000058' }] }]);

      // an analysis loads the set as registered (same fingerprint, the pair still left out) and keys its run on that fingerprint
      expect((await execute('mutation($p: String!) { registerCheckpoint(path: $p) { id } }', { p: join(t.dir, 'models', 'tiny', 'sft') })).errors).toBeUndefined();
      const loaded = await app.services.probeSets.load('reference/vision');
      expect(loaded.set.fingerprint).toBe(set.fingerprint);
      expect(loaded.set.examples).toHaveLength(399);
      const swap = await execute(
        `{ localization(model: "tiny/sft", probeSet: "reference/vision", method: VISUAL_TOKEN_SWAP, options: { tasks: ["recognition"], maxExamples: 3, layers: [1, 6, ${N_LAYERS}], scoring: TEACHER_FORCED }, waitSeconds: 120) { status run { id error } layers { index task metric n } } }`,
      );
      expect(swap.errors).toBeUndefined();
      expect(swap.data.localization.run.error).toBeNull();
      expect(swap.data.localization.status).toBe('DONE');
      const change = (swap.data.localization.layers as Effect[]).filter((l) => l.metric === 'change_rate' && l.task === 'recognition');
      expect(change.map((l) => [l.index, l.n])).toEqual([[1, 3], [6, 3], [N_LAYERS, 3]]);
      const inputs = await app.services.warehouse.readOnlySql(`SELECT inputs FROM runs WHERE id = '${swap.data.localization.run.id}'`);
      expect(JSON.parse(inputs.rows[0]![0] as string)).toContainEqual({ role: 'probeSet', id: 'reference/vision', fingerprint: set.fingerprint });
    } finally {
      await apollo.stop();
      await app.close();
    }
  }, 180_000);
});
