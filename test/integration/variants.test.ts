import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { writeJsonlProbes } from '../helpers/probe-fixtures.js';
import { mkdir, writeFile, readFile } from 'node:fs/promises';

let t: TestApp;
const N = 12;

beforeAll(async () => {
  t = await createTestApp();
  await writeTinyTrio(join(t.dir, 'models', 'tiny'), { numLayers: N });
  const probes = join(t.dir, 'models', 'probes', 'settings');
  const items = [
    ...[0, 1, 2, 3].map((i) => ({ id: `p${i}`, prompt: '<image>How many squares?', answer: String(2 + (i % 3)), image: true, split: 'perception' })),
    ...[0, 1, 2].map((i) => ({ id: `r${i}`, prompt: `What is ${i} + 1?`, answer: String(i + 1), split: 'reasoning' })),
  ];
  await writeJsonlProbes(probes, items);
  // the alignment setting needs descriptions: add an alignment copy of the perception questions
  const lines = (await readFile(join(probes, 'probes.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  const aligned = lines.filter((l) => l.split === 'perception').map((l) => ({ ...l, id: `a${l.id}`, split: 'alignment', description: 'a few coloured squares on black' }));
  await writeFile(join(probes, 'probes.jsonl'), [...lines, ...aligned].map((l) => JSON.stringify(l)).join('\n') + '\n');
  for (const role of ['base', 'sft', 'rl']) expect((await t.execute(`mutation { registerCheckpoint(path: "tiny/${role}") { id } }`)).errors).toBeUndefined();
  expect((await t.execute(`mutation { registerProbeSet(path: "probes/settings", name: "settings") { id } }`)).errors).toBeUndefined();
}, 120_000);

afterAll(async () => {
  await t?.close();
});

const ALL_FROM_RL = { base: 'tiny/sft', donors: ['tiny/rl'], operations: [{ op: 'splice', model: 'tiny/rl', layers: { from: 0, to: N } }] };

describe('variants', () => {
  test('a plain model is its checkpoint; presets have stable fingerprints that follow the cuts', async () => {
    const r = await t.execute<any>(`{
      plain: variant(recipe: { model: "tiny/sft" }) { fingerprint recipe models }
      a: variant(recipe: { preset: IN_EARLY__RL_MIDDLE_LATE, sft: "tiny/sft", rl: "tiny/rl" }) { fingerprint label models }
      b: variant(recipe: { preset: IN_EARLY__RL_MIDDLE_LATE, sft: "tiny/sft", rl: "tiny/rl", layerCuts: [4, 8] }) { fingerprint }
      c: variant(recipe: { preset: IN_EARLY__RL_MIDDLE_LATE, sft: "tiny/sft", rl: "tiny/rl", layerCuts: [5, 8] }) { fingerprint }
      checkpoints { id fingerprint } }`);
    expect(r.errors).toBeUndefined();
    const sft = r.data.checkpoints.find((c: { id: string }) => c.id === 'tiny/sft');
    expect(r.data.plain).toEqual({ fingerprint: sft.fingerprint, recipe: null, models: ['tiny/sft'] });
    expect(r.data.a.models.sort()).toEqual(['tiny/rl', 'tiny/sft']);
    // default cuts for 12 layers are [4, 8]
    expect(r.data.b.fingerprint).toBe(r.data.a.fingerprint);
    expect(r.data.c.fingerprint).not.toBe(r.data.a.fingerprint);
  });

  test('splicing every layer from RL scores exactly like RL', async () => {
    const q = `query($r: VariantRecipeInput!) { variant(recipe: $r) { fingerprint scores(probeSet: "settings", setting: PERCEPTION, options: { maxNewTokens: 4 }, waitSeconds: 120) {
      status run { id error } conditions { condition task accuracy n } transitions { task nTT nTF nFT nFF n } } } }`;
    const rl = await t.execute<any>(q, { r: { model: 'tiny/rl' } });
    const spliced = await t.execute<any>(q, { r: { recipe: ALL_FROM_RL } });
    expect(rl.errors).toBeUndefined();
    expect(spliced.errors, JSON.stringify(spliced.errors)).toBeUndefined();
    const a = rl.data.variant.scores;
    const b = spliced.data.variant.scores;
    expect(a.status).toBe('DONE');
    expect(b.status).toBe('DONE');
    expect(spliced.data.variant.fingerprint).not.toBe(rl.data.variant.fingerprint);
    expect(b.conditions).toEqual(a.conditions);
    const answers = async (runId: string) => (await t.app.services.warehouse.exampleResults({ runId, first: 1000 })).map((r) => [r.exampleId, r.condition, r.answer]);
    expect(await answers(b.run.id)).toEqual(await answers(a.run.id));
    const all = a.transitions.find((x: { task: string }) => x.task === 'all');
    expect(all.nTT + all.nTF + all.nFT + all.nFF).toBe(all.n);
    expect(all.n).toBe(4);
  }, 180_000);

  test("the transferability table holds IN, RL and the six splices in each setting", async () => {
    const r = await t.execute<any>(`{ transferability(sft: "tiny/sft", rl: "tiny/rl", probeSet: "settings", options: { maxNewTokens: 3 }, waitSeconds: 300) {
      status runs { status error } rows { variant setting conditions { condition accuracy n } transition { delta netGain mcnemarP } } } }`);
    expect(r.errors).toBeUndefined();
    const table = r.data.transferability;
    expect(table.status).toBe('DONE');
    expect(table.rows).toHaveLength(8 * 3);
    const variants = new Set(table.rows.map((x: { variant: string }) => x.variant));
    expect(variants).toEqual(new Set(['tiny/sft', 'tiny/rl', 'in_early__rl_middle_late', 'rl_early__in_middle_late', 'in_early_middle__rl_late', 'rl_early_middle__in_late', 'in_early__rl_middle__in_late', 'rl_early__in_middle__rl_late']));
    for (const row of table.rows) {
      if (row.setting === 'REASONING') {
        expect(row.transition).toBeNull();
        expect(row.conditions.map((c: { condition: string }) => c.condition)).toEqual(['question']);
      } else {
        expect(row.conditions.map((c: { condition: string }) => c.condition)).toEqual(row.setting === 'PERCEPTION' ? ['image', 'black_image'] : ['image', 'black_image_description']);
        const [imageAcc, otherAcc] = row.conditions.map((c: { accuracy: number }) => c.accuracy);
        expect(row.transition.delta).toBeCloseTo(imageAcc - otherAcc, 12);
      }
    }
  }, 300_000);

  test('transitions between a variant and an identical one have no discordant pairs; against another model the counts add up', async () => {
    const q = `query($a: VariantRecipeInput!, $b: VariantRecipeInput!) { variant(recipe: $a) {
      transitions(versus: $b, probeSet: "settings", setting: PERCEPTION, options: { maxNewTokens: 4 }, waitSeconds: 120) { task conditionA conditionB n nTT nTF nFT nFF delta mcnemarP } } }`;
    const same = await t.execute<any>(q, { a: { model: 'tiny/rl' }, b: { recipe: ALL_FROM_RL } });
    expect(same.errors).toBeUndefined();
    const rows = same.data.variant.transitions;
    expect(rows.map((r: { conditionA: string }) => r.conditionA.split(' / ')[1]).sort()).toEqual(['black_image', 'black_image', 'image', 'image']);
    for (const r of rows) {
      expect(r.nTF).toBe(0);
      expect(r.nFT).toBe(0);
      expect(r.delta).toBe(0);
      expect(r.mcnemarP).toBe(1);
    }
    const other = await t.execute<any>(q, { a: { model: 'tiny/rl' }, b: { model: 'tiny/base' } });
    for (const r of other.data.variant.transitions) expect(r.nTT + r.nTF + r.nFT + r.nFF).toBe(r.n);
  }, 180_000);

  test('an exported variant scores exactly like the zero-copy one', async () => {
    await mkdir(join(t.dir, 'models', 'exports'), { recursive: true });
    const preset = '{ preset: IN_EARLY__RL_MIDDLE_LATE, sft: "tiny/sft", rl: "tiny/rl" }';
    const exported = await t.execute<any>(`mutation { exportVariant(recipe: ${preset}, path: "${join(t.dir, 'models', 'exports', 'v1')}", dtype: "F32", name: "exports/v1") { id numLayers dtype } }`);
    expect(exported.errors, JSON.stringify(exported.errors)).toBeUndefined();
    expect(exported.data.exportVariant).toEqual({ id: 'exports/v1', numLayers: N, dtype: 'F32' });
    const q = (recipe: string) => `{ variant(recipe: ${recipe}) { scores(probeSet: "settings", setting: PERCEPTION, options: { maxNewTokens: 4 }, waitSeconds: 120) { status run { id } conditions { condition task accuracy n } } } }`;
    const zeroCopy = (await t.execute<any>(q(preset))).data.variant.scores;
    const file = (await t.execute<any>(q('{ model: "exports/v1" }'))).data.variant.scores;
    expect(file.status).toBe('DONE');
    expect(file.run.id).not.toBe(zeroCopy.run.id);
    expect(file.conditions).toEqual(zeroCopy.conditions);
    const answers = async (runId: string) => (await t.app.services.warehouse.exampleResults({ runId, first: 1000 })).map((r) => [r.exampleId, r.condition, r.answer]);
    expect(await answers(file.run.id)).toEqual(await answers(zeroCopy.run.id));
  }, 180_000);

  test('exports are refused outside the roots, over an existing path, and for a plain model', async () => {
    const preset = '{ preset: IN_EARLY__RL_MIDDLE_LATE, sft: "tiny/sft", rl: "tiny/rl" }';
    const outside = await t.execute(`mutation { exportVariant(recipe: ${preset}, path: "/tmp/frankenscope-not-allowed-export") { id } }`);
    expect(outside.errors?.[0]?.extensions?.code).toBe('PATH_NOT_ALLOWED');
    const existing = await t.execute(`mutation { exportVariant(recipe: ${preset}, path: "${join(t.dir, 'models', 'tiny', 'sft')}") { id } }`);
    expect(existing.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(existing.errors?.[0]?.message).toMatch(/already exists/);
    const plain = await t.execute(`mutation { exportVariant(recipe: { model: "tiny/sft" }, path: "${join(t.dir, 'models', 'exports', 'plain')}") { id } }`);
    expect(plain.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  test('necessity: proxies over a region RL did not change equal RL and IN exactly; frozen checkpoints are rows too', async () => {
    // the tiny trio's RL differs from SFT only in the late half of the LLM layers, so the early third is untouched
    const r = await t.execute<any>(`{ necessity(rl: "tiny/rl", sft: "tiny/sft", frozen: ["tiny/base"], probeSet: "settings", options: { maxNewTokens: 3 }, waitSeconds: 300) {
      status rows { variant kind region setting condition accuracy n gainOverIn shareOfRlGain } } }`);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const { status, rows } = r.data.necessity;
    expect(status).toBe('DONE');
    expect(rows).toHaveLength((3 + 6) * 3);
    const acc = (kind: string, setting: string, region: string | null = null) =>
      rows.find((x: { kind: string; setting: string; region: string | null }) => x.kind === kind && x.setting === setting && x.region === region).accuracy;
    for (const setting of ['PERCEPTION', 'ALIGNMENT', 'REASONING']) {
      expect(acc('revert_proxy', setting, 'early')).toBe(acc('rl', setting));
      expect(acc('reverse_proxy', setting, 'early')).toBe(acc('in', setting));
      const inRow = rows.find((x: { kind: string; setting: string }) => x.kind === 'in' && x.setting === setting);
      expect(inRow.gainOverIn).toBe(0);
    }
    expect(rows.filter((x: { kind: string }) => x.kind === 'frozen').map((x: { variant: string }) => x.variant)).toEqual(['tiny/base', 'tiny/base', 'tiny/base']);
  }, 300_000);

  test('bad variant requests are refused with the field named', async () => {
    const cases: [string, RegExp][] = [
      ['{ variant(recipe: { model: "tiny/sft", preset: IN_EARLY__RL_MIDDLE_LATE }) { fingerprint } }', /exactly one/],
      ['{ variant(recipe: { preset: IN_EARLY__RL_MIDDLE_LATE, sft: "tiny/sft" }) { fingerprint } }', /'sft' and 'rl'/],
      ['{ variant(recipe: { preset: IN_EARLY__RL_MIDDLE_LATE, sft: "tiny/sft", rl: "tiny/rl", layerCuts: [9, 3] }) { fingerprint } }', /layerCuts/],
      ['{ variant(recipe: { recipe: { base: "tiny/sft", donors: [], operations: [{ op: "melt" }] } }) { fingerprint } }', /op/],
    ];
    for (const [q, message] of cases) {
      const r = await t.execute(q);
      expect(r.errors?.[0]?.extensions?.code, q).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0]?.message, q).toMatch(message);
    }
    const missing = await t.execute('{ variant(recipe: { model: "nope" }) { fingerprint } }');
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
