/**
 * `frankenscope report` end to end on a tiny runnable trio: every analysis
 * runs, the HTML is self-contained, its numbers are the API's, a second
 * report is a cache hit (in-process and through the CLI), and bad input
 * writes nothing.
 *
 * Planted structure the assertions rely on: the tiny trio's RL differs from
 * IN only in decoder layers N/2..N-1 (3..5 of 6), so with cuts [2, 4] the
 * late third carries RL's largest update and the splice
 * in_early__rl_middle_late holds exactly RL's weights. The reasoning
 * questions' gold answers are RL's own greedy answers (computed here with
 * the engine), so RL is right on all of them and IN on those where its own
 * answer matches.
 */
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { graphql, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type AppConfig } from '../../src/config.js';
import { InputBuilder } from '../../src/engine/analyses/prepare.js';
import { writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { TextTokenizer } from '../../src/engine/model/tokenizer.js';
import { HookedRunner } from '../../src/engine/runtime/runner.js';
import { CheckpointWeights } from '../../src/engine/runtime/weights.js';
import { normalizeAnswer } from '../../src/engine/scoring/index.js';
import { ENGINE_VERSION } from '../../src/engine/version.js';
import { formatValue, ReportQueryError, writeReport } from '../../src/report/index.js';
import { buildAppSchema } from '../../src/resolvers/build-schema.js';
import { createRequestContext } from '../../src/resolvers/context.js';
import { writeCountingPairs, writeJsonlProbes } from '../helpers/probe-fixtures.js';

const N_LAYERS = 6;
const CUTS: [number, number] = [2, 4];
const MAX_NEW_TOKENS = 4;
const OPTIONS = `{ maxExamples: 3, maxNewTokens: ${MAX_NEW_TOKENS} }`;
const REQUEST = {
  base: 'tiny/base', sft: 'tiny/sft', rl: 'tiny/rl', probes: 'questions', pairs: 'pairs',
  frozen: ['tiny/rl-in-late'], layerCuts: CUTS, maxExamples: 3, maxNewTokens: MAX_NEW_TOKENS,
};
const NOW = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
const REASONING_PROMPTS = ['What is 2 + 3?', 'Name a colour.', 'Say hello.', 'Where is the sun?', 'Count to three.'];

let dir: string;
let config: AppConfig;
let app: App | undefined;
let schema: GraphQLSchema;
let first: Awaited<ReturnType<typeof writeReport>>;
let html: string;
/** per reasoning question: whether IN's own greedy answer equals RL's (the gold) */
let inMatchesRl: boolean[];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function gql(source: string, variables: Record<string, unknown> = {}): Promise<any> {
  const result = await graphql({ schema, source, variableValues: variables, contextValue: createRequestContext(app!.services) });
  if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
  return result.data;
}

/** Greedy answers of a checkpoint to text-only prompts, as the scoring decodes them. */
async function greedyAnswers(modelDir: string, prompts: readonly string[]): Promise<string[]> {
  const weights = await CheckpointWeights.open(modelDir);
  const runner = await HookedRunner.create({ weights });
  try {
    const builder = new InputBuilder(runner.config, await TextTokenizer.load(modelDir));
    const inputs = await Promise.all(prompts.map((prompt, i) => builder.input({
      id: `r${i}`, task: 'free', split: 'reasoning', prompt, images: { target: null, source: null }, answers: { target: 'x', source: null },
      description: null, tags: [], meta: {}, targetImagePath: null, sourceImagePath: null,
    }, 'none')));
    const r = await runner.generate(inputs, { maxNewTokens: MAX_NEW_TOKENS });
    return r.tokens.map((ids) => builder.decode(ids));
  } finally {
    await runner.release();
    await weights.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'frankenscope-report-'));
  const models = join(dir, 'models');
  // a larger RL step than the default so that RL and IN answer differently
  const trio = await writeTinyTrio(join(models, 'tiny'), { numLayers: N_LAYERS, rlScale: 0.5 });
  await writeCountingPairs(join(models, 'pairs'), 3);

  const rlAnswers = await greedyAnswers(trio.rl, REASONING_PROMPTS);
  const inAnswers = await greedyAnswers(trio.sft, REASONING_PROMPTS);
  const kept = REASONING_PROMPTS.map((prompt, i) => ({ prompt, gold: rlAnswers[i]!, inAnswer: inAnswers[i]! }))
    .filter((q) => normalizeAnswer(q.gold).length > 0)
    .slice(0, 3);
  expect(kept.length).toBeGreaterThanOrEqual(2);
  inMatchesRl = kept.map((q) => normalizeAnswer(q.inAnswer) === normalizeAnswer(q.gold));
  // RL must gain something over IN for a share of its gain to exist
  expect(inMatchesRl.some((m) => !m)).toBe(true);

  const questions = join(models, 'questions');
  await writeJsonlProbes(questions, [
    ...[0, 1].map((i) => ({ id: `p${i}`, prompt: '<image>How many squares?', answer: String(2 + i), image: true, split: 'perception' })),
    ...[0, 1].map((i) => ({ id: `a${i}`, prompt: '<image>How many squares?', answer: String(2 + i), image: true, split: 'alignment' })),
    ...kept.map((q, i) => ({ id: `r${i}`, prompt: q.prompt, answer: q.gold, split: 'reasoning' })),
  ]);
  // the alignment setting shows a description instead of the picture
  const lines = (await readFile(join(questions, 'probes.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  await writeFile(join(questions, 'probes.jsonl'), lines.map((l) => JSON.stringify(l.split === 'alignment' ? { ...l, description: 'a few coloured squares on black' } : l)).join('\n') + '\n');

  config = {
    ...loadConfig({}),
    warehousePath: join(dir, 'warehouse.duckdb'),
    modelRoots: [models],
    port: 0,
  };
  app = await createApp(config, { registerDemo: false });
  schema = await buildAppSchema();
  for (const role of ['base', 'sft', 'rl']) await gql(`mutation($p: String!) { registerCheckpoint(path: $p) { id } }`, { p: `tiny/${role}` });
  for (const set of ['questions', 'pairs']) await gql(`mutation($p: String!, $n: String!) { registerProbeSet(path: $p, name: $n) { id } }`, { p: set, n: set });
  // stands in for "RL trained with the late third frozen": RL with IN's late layers, bit-exact (F32)
  await gql(`mutation($p: String!, $r: VariantRecipeInput!) { exportVariant(recipe: $r, path: $p, dtype: "F32", name: "tiny/rl-in-late") { id } }`, {
    p: join(models, 'rl-in-late'),
    r: { recipe: { base: 'tiny/rl', donors: ['tiny/sft'], operations: [{ op: 'splice', model: 'tiny/sft', layers: { from: CUTS[1], to: N_LAYERS } }] } },
  });

  first = await writeReport(app, { ...REQUEST, path: join(dir, 'report.html'), now: NOW });
  html = await readFile(first.path, 'utf8');
}, 180_000);

afterAll(async () => {
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The HTML between the heading with `id` and the next section heading. */
function section(id: string): string {
  const start = html.indexOf(`<h2 id="${id}"`);
  expect(start, `section ${id}`).toBeGreaterThanOrEqual(0);
  const next = html.indexOf('<h2 ', start + 1);
  return html.slice(start, next < 0 ? undefined : next);
}

/** Cells of the body rows of the first table with class `className`. */
function tableRows(className: string): string[][] {
  const start = html.indexOf(`<table class="${className}">`);
  expect(start, `table ${className}`).toBeGreaterThanOrEqual(0);
  const body = html.slice(html.indexOf('<tbody>', start), html.indexOf('</table>', start));
  return [...body.matchAll(/<tr>(.*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<td(?: class="num")?>(.*?)<\/td>/g)].map((m) => m[1]!));
}

const withCi = (x: number | null, lo: number | null, hi: number | null): string => (x == null ? '–' : `${formatValue(x)} [${formatValue(lo)}, ${formatValue(hi)}]`);

describe('frankenscope report', () => {
  test('is one self-contained document with every section in order', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/@import|<script|<link|url\(/i);
    const order = ['summary', 'characterization', 'localization', 'attention', 'patching', 'transferability', 'necessity'].map((id) => html.indexOf(`<h2 id="${id}"`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // 3 characterization, 2 swap, 1 ablation, 2 attention, 1 patching (one swap task: no per-task charts)
    expect((html.match(/<svg/g) ?? []).length).toBe(9);
  });

  test('the header names every model with its fingerprint, the probe sets, the date and the engine version', async () => {
    const data = await gql(`{ checkpoints { id fingerprint } probeSets { id fingerprint } }`);
    const header = html.slice(0, html.indexOf('<h2 '));
    for (const id of ['tiny/base', 'tiny/sft', 'tiny/rl', 'tiny/rl-in-late']) {
      const fingerprint = data.checkpoints.find((c: { id: string }) => c.id === id).fingerprint as string;
      expect(header).toMatch(new RegExp(`<td>${id}</td><td(?: class="num")?>${fingerprint.slice(0, 16)}</td>`));
    }
    for (const id of ['questions', 'pairs']) expect(header).toContain(`<td>${id}</td>`);
    expect(header).toContain(NOW.toISOString());
    expect(header).toContain(ENGINE_VERSION);
  });

  test('the characterization chart draws one curve per phase, and RL left the early third untouched', async () => {
    const part = section('characterization');
    const svg = part.slice(part.indexOf('<svg'), part.indexOf('</svg>') + 6);
    // Vega draws a line mark as one <path> per colour group, labelled with the group's first point
    const curves = [...svg.matchAll(/<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="line mark"/g)].map((m) => m[1]!);
    expect(curves).toHaveLength(2);
    expect(curves.some((label) => label.includes('series: SFT: Base→IN'))).toBe(true);
    expect(curves.some((label) => label.includes('series: RL: IN→RL'))).toBe(true);
    const data = await gql(`query($c: [Int!]) { characterization(base: "tiny/base", sft: "tiny/sft", rl: "tiny/rl", options: { layerCuts: $c }, waitSeconds: 0) {
      status regions { key rl { relativeNorm } } } }`, { c: CUTS });
    expect(data.characterization.status).toBe('DONE');
    const early = data.characterization.regions.find((r: { key: string }) => r.key.toLowerCase() === 'early');
    expect(early.rl.relativeNorm).toBe(0);
  });

  test('shows the transferability numbers the API returns', async () => {
    const data = await gql(`query($c: [Int!]) { transferability(sft: "tiny/sft", rl: "tiny/rl", probeSet: "questions", layerCuts: $c, options: ${OPTIONS}, waitSeconds: 0) {
      status rows { variant setting conditions { task accuracy ciLow ciHigh n }
        transition { task delta deltaCiLow deltaCiHigh netGain sideEffectRate liftRate mcnemarP } } } }`, { c: CUTS });
    const table = data.transferability;
    expect(table.status).toBe('DONE');
    expect(table.rows).toHaveLength(8 * 3);
    const shown = tableRows('transfer');
    expect(shown).toHaveLength(table.rows.length);
    for (const row of table.rows) {
      const cells = shown.find((c) => c[0] === row.variant && c[1] === row.setting);
      expect(cells, `${row.variant} ${row.setting}`).toBeDefined();
      const [a, b] = row.conditions;
      const t = row.transition;
      expect(cells).toEqual([
        row.variant, row.setting,
        withCi(a.accuracy, a.ciLow, a.ciHigh), b ? withCi(b.accuracy, b.ciLow, b.ciHigh) : '–',
        t ? withCi(t.delta, t.deltaCiLow, t.deltaCiHigh) : '–',
        t ? formatValue(t.netGain) : '–', t ? formatValue(t.sideEffectRate) : '–', t ? formatValue(t.liftRate) : '–', t ? formatValue(t.mcnemarP) : '–',
        String(a.n),
      ]);
    }
    // planted: RL answers its own gold; the splice with RL's middle and late thirds is RL
    const reasoning = (variant: string) => shown.find((c) => c[0] === variant && c[1] === 'REASONING')![2]!;
    const inAccuracy = inMatchesRl.filter(Boolean).length / inMatchesRl.length;
    expect(reasoning('tiny/rl').startsWith(`${formatValue(1)} `)).toBe(true);
    expect(reasoning('tiny/sft').startsWith(`${formatValue(inAccuracy)} `)).toBe(true);
    expect(reasoning('in_early__rl_middle_late')).toBe(reasoning('tiny/rl'));
    expect(reasoning('rl_early__in_middle_late')).toBe(reasoning('tiny/sft'));
  });

  test('the summary is computed from the data: the late third, the splice that recovers RL, RL against IN', async () => {
    const summary = section('summary');
    expect(summary).toContain('IN→RL changed the late third most');
    expect(summary).not.toContain('Base→IN changed the late third most');
    const splice = /Transfer: (.*?) recovers? the most of RL&#39;s reasoning gain \(([\d.]+)%/.exec(summary);
    expect(splice, summary).not.toBeNull();
    expect(splice![1]).toContain('in_early__rl_middle_late');
    expect(splice![2]).toBe('100.0');
    const data = await gql(`{ variant(recipe: { model: "tiny/rl" }) { transitions(versus: { model: "tiny/sft" }, probeSet: "questions", setting: REASONING,
      options: ${OPTIONS}, waitSeconds: 0) { task n nTF nFT } } }`);
    const all = data.variant.transitions.find((x: { task: string }) => x.task === 'all');
    expect(all.n).toBe(inMatchesRl.length);
    expect(all.nTF).toBe(inMatchesRl.filter((m) => !m).length);
    expect(all.nFT).toBe(0);
    expect(summary).toContain(`on ${all.n} questions (RL right where IN was wrong: ${all.nTF}, the reverse: ${all.nFT};`);
  });

  test('the necessity table puts the frozen checkpoint next to the proxy with the same weights', async () => {
    const data = await gql(`query($c: [Int!]) { necessity(sft: "tiny/sft", rl: "tiny/rl", frozen: ["tiny/rl-in-late"], probeSet: "questions", layerCuts: $c,
      options: ${OPTIONS}, waitSeconds: 0) { status rows { variant kind region setting accuracy ciLow ciHigh shareOfRlGain } } }`, { c: CUTS });
    expect(data.necessity.status).toBe('DONE');
    const rows = data.necessity.rows as { variant: string; kind: string; region: string | null; setting: string; accuracy: number; ciLow: number; ciHigh: number; shareOfRlGain: number | null }[];
    const shown = tableRows('necessity');
    for (const setting of ['PERCEPTION', 'ALIGNMENT', 'REASONING']) {
      const frozen = rows.find((r) => r.kind === 'frozen' && r.setting === setting)!;
      const proxy = rows.find((r) => r.kind === 'revert_proxy' && r.region === 'late' && r.setting === setting)!;
      expect(frozen.accuracy).toBe(proxy.accuracy);
      const cells = shown.find((c) => c[0] === 'tiny/rl-in-late' && c[3] === setting)!;
      expect(cells[5]).toBe(withCi(frozen.accuracy, frozen.ciLow, frozen.ciHigh));
      expect(cells[7]).toBe(formatValue(frozen.shareOfRlGain));
    }
    const frozen = rows.find((r) => r.kind === 'frozen' && r.setting === 'REASONING')!;
    const share = `${(100 * frozen.shareOfRlGain!).toFixed(1)}%`;
    expect(section('summary')).toContain(`layers frozen: tiny/rl-in-late ${share}; with one third reverted to IN`);
    expect(section('summary')).toMatch(new RegExp(`reverted to IN \\(training-free proxy\\): [^<]*late ${share.replace('.', '\\.')}`));
  });

  test('localization, attention shift and patching show one curve per model and the API rows', async () => {
    const loc = section('localization');
    expect(loc).toContain('>IN<');
    expect(loc).toContain('>RL<');
    const data = await gql(`{ localization(model: "tiny/rl", probeSet: "questions", method: ZERO_ABLATION, options: { maxExamples: 3, maxNewTokens: ${MAX_NEW_TOKENS}, split: "reasoning" }, waitSeconds: 0) {
      status layers { index task metric value ciLow ciHigh } } }`);
    expect(data.localization.status).toBe('DONE');
    const ablation = tableRows('ablation-rl');
    const llm = data.localization.layers.filter((r: { task: string; metric: string; index: number | null }) => r.task === 'all' && r.metric === 'accuracy' && r.index !== null);
    expect(llm).toHaveLength(N_LAYERS);
    for (const r of llm) expect(ablation.find((c) => c[0] === String(r.index))![1]).toBe(withCi(r.value, r.ciLow, r.ciHigh));
    expect(section('attention')).toContain('B − A');
    expect(section('patching')).toMatch(/<svg/);
  });

  test('a second report reads the same runs and renders the same document', async () => {
    const second = await writeReport(app!, { ...REQUEST, path: join(dir, 'again.html'), now: NOW });
    expect(second.runIds).toEqual(first.runIds);
    expect(new Set(second.runIds).size).toBeGreaterThanOrEqual(9);
    expect(await readFile(second.path, 'utf8')).toBe(html);
  });

  test('without pairs the attention shift reads the probe set, the swap is left out with the reason, and no necessity without frozen models', async () => {
    const { path, runIds } = await writeReport(app!, { ...REQUEST, pairs: undefined, frozen: [], path: join(dir, 'no-pairs.html'), now: NOW });
    const page = await readFile(path, 'utf8');
    expect(page).toContain('Visual-token swap not run: <code>questions</code> holds no target/source image pairs');
    expect(page).not.toContain('<table class="swap-in">');
    expect(page).not.toContain('<h2 id="necessity"');
    const attention = await gql(`{ attentionShift(a: "tiny/sft", b: "tiny/rl", probeSet: "questions", options: ${OPTIONS}, waitSeconds: 0) { status run { id } } }`);
    expect(attention.attentionShift.status).toBe('DONE');
    expect(runIds).toContain(attention.attentionShift.run.id);
    // the characterization, ablations, patching and transferability are the first report's runs
    expect(runIds.filter((id) => first.runIds.includes(id)).length).toBe(runIds.length - 1);
  });

  test('an unknown checkpoint or probe set is refused before anything is written', async () => {
    const path = join(dir, 'bad.html');
    const error = await writeReport(app!, { ...REQUEST, rl: 'tiny/nope', path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportQueryError);
    expect((error as ReportQueryError).code).toBe('NOT_FOUND');
    expect((error as Error).message).toContain("'tiny/nope'");
    const noProbes = await writeReport(app!, { ...REQUEST, pairs: 'no-such-pairs', path }).catch((e: unknown) => e);
    expect((noProbes as Error).message).toContain("'no-such-pairs'");
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.partial`)).toBe(false);
  });

  test('the CLI writes the same report from the warehouse cache', async () => {
    // the CLI opens the warehouse itself: DuckDB allows one writer
    await app!.close();
    app = undefined;
    const out = join(dir, 'cli.html');
    const args = [
      new URL('../../bin/frankenscope.js', import.meta.url).pathname, 'report',
      '--base', 'tiny/base', '--sft', 'tiny/sft', '--rl', 'tiny/rl', '--probes', 'questions', '--pairs', 'pairs', '--frozen', 'tiny/rl-in-late',
      '--layer-cuts', CUTS.join(','), '--max-examples', '3', '--max-new-tokens', String(MAX_NEW_TOKENS), '--out', out,
    ];
    const env = { ...process.env, FRANKENSCOPE_WAREHOUSE: config.warehousePath, FRANKENSCOPE_MODEL_ROOTS: config.modelRoots.join(':') };
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { env, timeout: 60_000 });
    expect(stdout).toContain(out);
    // no terminal: progress as plain lines, the last one with every analysis done
    expect(stderr.trim().split('\n').at(-1)).toMatch(/^report: 100% \| (\d+)\/\1 analyses done \| rendering$/);
    const timestamp = /Generated [^ ]+ by/;
    expect((await readFile(out, 'utf8')).replace(timestamp, '')).toBe(html.replace(timestamp, ''));

    const missing = await promisify(execFile)(process.execPath, [...args.slice(0, 2), ...args.slice(2).map((a) => (a === 'tiny/rl' ? 'tiny/missing' : a)), '--out', join(dir, 'cli-bad.html')], { env, timeout: 60_000 }).catch((e: unknown) => e);
    expect((missing as { code: number }).code).toBe(1);
    expect((missing as { stderr: string }).stderr).toMatch(/tiny\/missing/);
    expect(existsSync(join(dir, 'cli-bad.html'))).toBe(false);
  }, 60_000);
});
