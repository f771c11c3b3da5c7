/**
 * GSM8K and MATH-500 folders, as they ship, registered over GraphQL and run
 * through an analysis to DONE on the tiny models; the generation budget's
 * default follows the format; a long generation is cancelled mid-way.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InputBuilder } from '../../src/engine/analyses/prepare.js';
import { writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { TextTokenizer } from '../../src/engine/model/tokenizer.js';
import { HookedRunner } from '../../src/engine/runtime/runner.js';
import { CheckpointWeights } from '../../src/engine/runtime/weights.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { writeGsm8kFolder, writeMath500Folder } from '../helpers/reasoning-fixtures.js';

let t: TestApp;
const LONG_QUESTION = 'Tom has 3 boxes with 4 pens each. How many pens?';

beforeAll(async () => {
  t = await createTestApp();
  await writeTinyTrio(join(t.dir, 'models', 'tiny'), { numLayers: 4 });
  writeGsm8kFolder(join(t.dir, 'models', 'probes', 'gsm8k'));
  writeMath500Folder(join(t.dir, 'models', 'probes', 'math500'));
  const long = join(t.dir, 'models', 'probes', 'long');
  mkdirSync(long, { recursive: true });
  writeFileSync(join(long, 'test.jsonl'), `${JSON.stringify({ question: LONG_QUESTION, answer: '3 * 4 = 12\n#### 12' })}\n`);
  for (const role of ['sft', 'rl']) {
    const r = await t.execute(`mutation { registerCheckpoint(path: "tiny/${role}") { id } }`);
    expect(r.errors).toBeUndefined();
  }
}, 180_000);

afterAll(async () => {
  await t?.close();
});

describe('registering the reasoning formats over GraphQL', () => {
  test('a GSM8K folder registers its test.jsonl; a MATH-500 folder its test.jsonl with unique ids', async () => {
    const r = await t.execute<any>(`mutation {
      g: registerProbeSet(path: "probes/gsm8k", name: "gsm8k") { id format exampleCount tasks splits examples(first: 5) { id task split answers } }
      m: registerProbeSet(path: "probes/math500", name: "math500") { id format exampleCount tasks splits examples(first: 5) { id answers } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.g).toMatchObject({ id: 'gsm8k', format: 'gsm8k', exampleCount: 3, tasks: ['math'], splits: ['reasoning'] });
    expect(r.data.g.examples.map((e: any) => [e.id, e.task, e.split, e.answers.target])).toEqual([
      ['test-00001', 'math', 'reasoning', '18'],
      ['test-00002', 'math', 'reasoning', '3'],
      ['test-00003', 'math', 'reasoning', '70000'],
    ]);
    expect(r.data.m).toMatchObject({ id: 'math500', format: 'math500', exampleCount: 2, tasks: ['math'], splits: ['reasoning'] });
    // listed in id order
    expect(r.data.m.examples.map((e: any) => [e.id, e.answers.target])).toEqual([
      ['test/algebra/2584.json', '\\frac{14}{3}'],
      ['test/precalculus/807.json', '\\left( 3, \\frac{\\pi}{2} \\right)'],
    ]);
    const sql = await t.app.services.warehouse.readOnlySql("SELECT id, format, n_examples FROM probe_sets WHERE id IN ('gsm8k', 'math500') ORDER BY id");
    expect(sql.rows).toEqual([['gsm8k', 'gsm8k', 3], ['math500', 'math500', 2]]);
  });

  test('a GSM8K line without "#### n" is refused with BAD_ANSWER naming file and line, and nothing is stored', async () => {
    const bad = join(t.dir, 'models', 'probes', 'bad-gsm8k');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'test.jsonl'), `${JSON.stringify({ question: 'q', answer: 'a\n#### 1' })}\n${JSON.stringify({ question: 'q2', answer: 'the answer is 4' })}\n`);
    const r = await t.execute<any>('mutation { registerProbeSet(path: "probes/bad-gsm8k", name: "bad-gsm8k") { id } }');
    expect(r.errors![0]!.extensions!.code).toBe('PROBE_SET_INVALID');
    expect(r.errors![0]!.extensions!.reason).toBe('BAD_ANSWER');
    expect(r.errors![0]!.message).toMatch(/test\.jsonl:2 \(example 'test-00002'\): 'answer' has no '#### n'/);
    const sql = await t.app.services.warehouse.readOnlySql("SELECT count(*) FROM probe_sets WHERE id = 'bad-gsm8k'");
    expect(sql.rows[0]![0]).toBe(0);
  });
});

describe('analyses on the reasoning formats', () => {
  test('GSM8K in the REASONING setting runs to DONE with the GSM8K budget (512) by default, and that value keys the cache', async () => {
    const q = (options: string) => `{ variant(recipe: { model: "tiny/sft" }) { scores(probeSet: "gsm8k", setting: REASONING, options: ${options}, waitSeconds: 300) {
      status run { id error params } conditions { condition task accuracy n } } } }`;
    const r = await t.execute<any>(q('{ maxExamples: 2 }'));
    expect(r.errors).toBeUndefined();
    const s = r.data.variant.scores;
    expect(s.run.error).toBeNull();
    expect(s.status).toBe('DONE');
    expect(s.run.params.maxNewTokens).toBe(512);
    expect(s.conditions.find((c: any) => c.task === 'math')).toMatchObject({ condition: 'question', n: 2 });
    const rows = await t.app.services.warehouse.exampleResults({ runId: s.run.id, first: 10 });
    expect(rows.map((x) => [x.exampleId, x.task, x.condition])).toEqual([['test-00001', 'math', 'question'], ['test-00002', 'math', 'question']]);
    // naming the default explicitly is the same request: the same run answers
    const again = await t.execute<any>(q('{ maxExamples: 2, maxNewTokens: 512 }'));
    expect(again.data.variant.scores.run.id).toBe(s.run.id);
  }, 300_000);

  test('MATH-500 zero-ablation localization runs to DONE with the MATH budget (1024) by default', async () => {
    const r = await t.execute<any>(`{ localization(model: "tiny/rl", probeSet: "math500", method: ZERO_ABLATION, options: { layers: [1], maxExamples: 1 }, waitSeconds: 300) {
      status run { id error params } layers { index task metric value n } } }`);
    expect(r.errors).toBeUndefined();
    const l = r.data.localization;
    expect(l.run.error).toBeNull();
    expect(l.status).toBe('DONE');
    expect(l.run.params.maxNewTokens).toBe(1024);
    // the clean accuracy (no layer) and layer 1 ablated, each over the one example of task math
    const accuracy = l.layers.filter((x: any) => x.metric === 'accuracy' && x.task === 'math').map((x: any) => [x.index, x.n]);
    expect(accuracy).toEqual([[null, 1], [1, 1]]);
  }, 300_000);

  test('a budget above the limit is refused naming the option; the probe set is not run', async () => {
    const r = await t.execute<any>(`{ localization(model: "tiny/rl", probeSet: "math500", method: ZERO_ABLATION, options: { maxNewTokens: 4097 }, waitSeconds: 0) { status } }`);
    expect(r.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(r.errors![0]!.message).toMatch(/maxNewTokens/);
  });
});

describe('cancelling a long generation', () => {
  test('cancelRun stops a 4096-token generation mid-way: progress moved inside the batch, FAILED "cancelled by request", no rows', async () => {
    const sft = join(t.dir, 'models', 'tiny', 'sft');
    // precondition (the fixture is deterministic): greedy decoding of this prompt does not reach end-of-text soon
    const weights = await CheckpointWeights.open(sft);
    const runner = await HookedRunner.create({ weights });
    const started = Date.now();
    try {
      const builder = new InputBuilder(runner.config, await TextTokenizer.load(sft));
      const input = await builder.input({
        id: 'x', task: 'math', split: 'reasoning', prompt: `${LONG_QUESTION}\n\nPlease reason step by step, and put your final answer within \\boxed{}.`,
        images: { target: null, source: null }, answers: { target: '12', source: null }, description: null, tags: [], meta: {}, targetImagePath: null, sourceImagePath: null,
      }, 'none');
      const r = await runner.generate([input], { maxNewTokens: 256 });
      expect(r.finish).toEqual(['length']);
    } finally {
      await runner.release();
      await weights.close();
    }
    const per256 = Date.now() - started;
    let r = await t.execute<any>('mutation { registerProbeSet(path: "probes/long", name: "long") { id } }');
    expect(r.errors).toBeUndefined();
    r = await t.execute<any>(`{ localization(model: "tiny/sft", probeSet: "long", method: ZERO_ABLATION, options: { layers: [1], maxNewTokens: 4096 }, waitSeconds: 0) { status run { id } } }`);
    expect(r.errors).toBeUndefined();
    const runId = r.data.localization.run.id;
    let message = '';
    for (let i = 0; i < 600 && !/token \d+\/4096/.test(message); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      message = (await t.execute<any>(`{ run(id: "${runId}") { message status } }`)).data.run.message ?? '';
    }
    expect(message).toMatch(/^batch 1\/1: clean answers: token \d+\/4096$/);
    const cancelledAt = Date.now();
    expect((await t.execute<any>(`mutation { cancelRun(id: "${runId}") { id } }`)).errors).toBeUndefined();
    let run: any;
    for (let i = 0; i < 600; i++) {
      run = (await t.execute<any>(`{ run(id: "${runId}") { status error progress } }`)).data.run;
      if (run.status !== 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const waited = Date.now() - cancelledAt;
    expect(run).toMatchObject({ status: 'FAILED', error: 'cancelled by request' });
    // the clean generation and the ablated one would need at least 2 x 4096 tokens (32 x the 256 timed above)
    expect(waited).toBeLessThan(Math.max(4 * per256, 3000));
    const rows = await t.app.services.warehouse.readOnlySql(`SELECT count(*) FROM example_results WHERE run_id = '${runId}'`);
    expect(rows.rows[0]![0]).toBe(0);
  }, 300_000);
});
