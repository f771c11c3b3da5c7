/**
 * mergekit configs over GraphQL (`recipeYaml`) and the CLI (`frankenscope
 * variant --recipe file.yml`) on the tiny trio: the same variant as the
 * equivalent JSON recipe, scored to DONE, refused by YAML path with nothing
 * stored, and exported with a mergekit_config.yml that parses back to it.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { writeJsonlProbes } from '../helpers/probe-fixtures.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
const N = 12;

beforeAll(async () => {
  t = await createTestApp();
  await writeTinyTrio(join(t.dir, 'models', 'tiny'), { numLayers: N });
  const items = [0, 1, 2].map((i) => ({ id: `p${i}`, prompt: '<image>How many squares?', answer: String(2 + i), image: true, split: 'perception' }));
  await writeJsonlProbes(join(t.dir, 'models', 'probes', 'perception'), items);
  for (const role of ['base', 'sft', 'rl']) expect((await t.execute(`mutation { registerCheckpoint(path: "tiny/${role}") { id } }`)).errors).toBeUndefined();
  expect((await t.execute(`mutation { registerProbeSet(path: "probes/perception", name: "perception") { id } }`)).errors).toBeUndefined();
  await mkdir(join(t.dir, 'models', 'exports'), { recursive: true });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

const PASSTHROUGH = `# IN early, RL from layer 5 on
slices:
  - sources:
      - model: tiny/sft
        layer_range: [0, 5]
  - sources:
      - model: tiny/rl
        layer_range: [5, 12]
merge_method: passthrough
dtype: float32
`;

const TIES = `models:
  - model: tiny/base
  - model: tiny/sft
    parameters:
      density: 0.5
      weight: [1, 0.5]
  - model: tiny/rl
    parameters:
      density: 0.7
      weight:
        - filter: mlp
          value: 1
        - value: 0.5
merge_method: ties
base_model: tiny/base
parameters:
  normalize: true
  int8_mask: true
dtype: bfloat16
`;

const VARIANT = `query($r: VariantRecipeInput!) { variant(recipe: $r) { fingerprint label models notes recipe
  scores(probeSet: "perception", setting: PERCEPTION, options: { maxNewTokens: 3 }, waitSeconds: 120) { status run { id error } conditions { condition task accuracy n } } } }`;

describe('mergekit configs over GraphQL', () => {
  test('a passthrough config is the same variant as the JSON splice: one fingerprint, one run, DONE', async () => {
    const yaml = await t.execute<any>(VARIANT, { r: { recipeYaml: PASSTHROUGH } });
    expect(yaml.errors, JSON.stringify(yaml.errors)).toBeUndefined();
    const json = await t.execute<any>(VARIANT, { r: { recipe: { base: 'tiny/sft', donors: ['tiny/rl'], operations: [{ op: 'splice', model: 'tiny/rl', layers: { from: 5, to: N } }] } } });
    expect(json.errors).toBeUndefined();
    const a = yaml.data.variant;
    const b = json.data.variant;
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.scores.status).toBe('DONE');
    // the variant is scored once: the JSON request joins the YAML's run
    expect(b.scores.run.id).toBe(a.scores.run.id);
    expect(a.scores.conditions.filter((c: { task: string }) => c.task === 'all').map((c: { condition: string; n: number }) => [c.condition, c.n])).toEqual([['image', 3], ['black_image', 3]]);
    expect(a.models.sort()).toEqual(['tiny/rl', 'tiny/sft']);
    expect(a.label).toBe('mergekit passthrough of tiny/sft, tiny/rl');
    expect(a.notes.join('\n')).toMatch(/lm_head from the last slice's model "tiny\/rl"/);
    expect(b.notes).toEqual([]);
  }, 180_000);

  test('a ties config with density, gradient and filtered weights scores to DONE', async () => {
    const r = await t.execute<any>(VARIANT, { r: { recipeYaml: TIES } });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(r.data.variant.scores.status).toBe('DONE');
    expect(r.data.variant.recipe.operations).toEqual([{
      op: 'ties', scope: 'all', normalize: true,
      models: [{ model: 'tiny/sft', weight: [1, 0.5], density: 0.5 }, { model: 'tiny/rl', weight: [{ nameContains: 'mlp', value: 1 }, { value: 0.5 }], density: 0.7 }],
    }]);
    expect(r.data.variant.notes.join(' ')).toMatch(/int8_mask is ignored/);
  }, 180_000);

  test('bad and unsupported configs are BAD_USER_INPUT naming the YAML path, and store nothing', async () => {
    const runsBefore = (await t.app.services.warehouse.listRuns({ first: 1000 })).length;
    const ask = (yaml: string) => t.execute('query($y: String!) { variant(recipe: { recipeYaml: $y }) { fingerprint } }', { y: yaml });
    const cases: [string, string, RegExp][] = [
      ['merge_method: model_stock\nbase_model: tiny/base\nmodels:\n  - model: tiny/sft\n  - model: tiny/rl\n', 'recipe.recipeYaml.merge_method', /"model_stock" is not supported/],
      [TIES.replace('density: 0.7', 'density: 0'), 'recipe.recipeYaml.models[2].parameters.density', /\(0, 1\], got 0/],
      [PASSTHROUGH.replace('[5, 12]', '[5, 10]'), 'recipe.recipeYaml.slices[1].sources[0].layer_range', /ends at layer 10, but the models have 12 layers/],
      [PASSTHROUGH.replace('[5, 12]', '[4, 12]'), 'recipe.recipeYaml.slices[1].sources[0].layer_range', /starts at layer 4/],
      [`${PASSTHROUGH}tokenizer_source: tiny/rl\n`, 'recipe.recipeYaml.tokenizer_source', /not supported/],
      ['merge_method: linear\nmodels: [\n', 'recipe.recipeYaml', /not valid YAML \(line/],
    ];
    for (const [yaml, argument, message] of cases) {
      const r = await ask(yaml);
      expect(r.errors?.[0]?.extensions?.code, yaml).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0]?.extensions?.argument, yaml).toBe(argument);
      expect(r.errors?.[0]?.message, yaml).toMatch(message);
    }
    const huge = await ask(`# ${'x'.repeat(70_000)}\n${PASSTHROUGH}`);
    expect(huge.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'recipe.recipeYaml' });
    const unknown = await ask(PASSTHROUGH.replace('tiny/rl', 'tiny/nope'));
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const both = await t.execute('{ variant(recipe: { model: "tiny/sft", recipeYaml: "merge_method: linear" }) { fingerprint } }');
    expect(both.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(both.errors?.[0]?.message).toMatch(/exactly one of .*'recipeYaml'; got model, recipeYaml/);
    const exported = await t.execute(`mutation($y: String!) { exportVariant(recipe: { recipeYaml: $y }, path: "${join(t.dir, 'models', 'exports', 'refused')}") { id } }`, { y: PASSTHROUGH.replace('passthrough', 'della') });
    expect(exported.errors?.[0]?.extensions?.argument).toBe('recipe.recipeYaml.merge_method');
    expect(await readdir(join(t.dir, 'models', 'exports'))).not.toContain('refused');
    expect((await t.app.services.warehouse.listRuns({ first: 1000 })).length).toBe(runsBefore);
  });

  test("an export writes mergekit_config.yml in the config's dtype; it parses back to the same variant", async () => {
    const path = join(t.dir, 'models', 'exports', 'from-yaml');
    const r = await t.execute<any>(`mutation($y: String!) { exportVariant(recipe: { recipeYaml: $y }, path: "${path}", name: "exports/from-yaml") { id dtype numLayers } }`, { y: PASSTHROUGH });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    // no dtype argument: the config's float32
    expect(r.data.exportVariant).toEqual({ id: 'exports/from-yaml', dtype: 'F32', numLayers: N });
    const written = await readFile(join(path, 'mergekit_config.yml'), 'utf8');
    expect(written).toContain('merge_method: passthrough');
    expect(written).toContain('dtype: float32');
    const q = 'query($r: VariantRecipeInput!) { variant(recipe: $r) { fingerprint } }';
    const original = await t.execute<any>(q, { r: { recipeYaml: PASSTHROUGH } });
    const back = await t.execute<any>(q, { r: { recipeYaml: written } });
    expect(back.errors).toBeUndefined();
    expect(back.data.variant.fingerprint).toBe(original.data.variant.fingerprint);

    // a preset exported in BF16 carries its YAML too (the base gives the tensors outside the layers)
    const presetPath = join(t.dir, 'models', 'exports', 'preset');
    const preset = '{ preset: RL_EARLY__IN_MIDDLE_LATE, sft: "tiny/sft", rl: "tiny/rl" }';
    expect((await t.execute(`mutation { exportVariant(recipe: ${preset}, path: "${presetPath}") { id } }`)).errors).toBeUndefined();
    const presetYaml = await readFile(join(presetPath, 'mergekit_config.yml'), 'utf8');
    expect(presetYaml).toContain('dtype: bfloat16');
    const fromPreset = await t.execute<any>(`{ variant(recipe: ${preset}) { fingerprint } }`);
    expect((await t.execute<any>(q, { r: { recipeYaml: presetYaml } })).data.variant.fingerprint).toBe(fromPreset.data.variant.fingerprint);

    // an interpolation has no mergekit equivalent: weights, no YAML
    const interp = join(t.dir, 'models', 'exports', 'interp');
    const recipe = { base: 'tiny/sft', donors: ['tiny/rl'], operations: [{ op: 'interpolate', donor: 'tiny/rl', alpha: 0.5, layers: { from: 0, to: N } }] };
    expect((await t.execute(`mutation($r: JSON!) { exportVariant(recipe: { recipe: $r }, path: "${interp}") { id } }`, { r: recipe })).errors).toBeUndefined();
    const files = await readdir(interp);
    expect(files).toContain('model.safetensors');
    expect(files).not.toContain('mergekit_config.yml');
  }, 180_000);
});

describe('frankenscope variant --recipe', () => {
  const run = promisify(execFile);
  const BIN = new URL('../../bin/frankenscope.js', import.meta.url).pathname;
  const cli = (args: string[]) =>
    run(process.execPath, [BIN, ...args], { env: { ...process.env, FRANKENSCOPE_WAREHOUSE: join(t.dir, 'cli.duckdb'), FRANKENSCOPE_MODEL_ROOTS: join(t.dir, 'models') }, timeout: 120_000 });

  test('a YAML naming checkpoint directories registers them, exports with mergekit_config.yml, and equals the JSON recipe; refusals name the YAML path', async () => {
    const work = join(t.dir, 'models', 'cli');
    await mkdir(work, { recursive: true });
    // model names are checkpoint directories, as people point mergekit at local checkpoints
    const tiny = join(t.dir, 'models', 'tiny');
    await writeFile(join(work, 'merge.yml'), PASSTHROUGH.replaceAll('tiny/', `${tiny}/`));
    await writeFile(join(work, 'merge.json'), JSON.stringify({ base: `${tiny}/sft`, donors: [`${tiny}/rl`], operations: [{ op: 'splice', model: `${tiny}/rl`, layers: { from: 5, to: N } }] }));
    const fromYaml = JSON.parse((await cli(['variant', '--recipe', join(work, 'merge.yml'), '--export', join(work, 'out'), '--json'])).stdout);
    expect(fromYaml.exported.dtype).toBe('F32');
    expect(fromYaml.notes.join(' ')).toMatch(/lm_head/);
    const fromJson = JSON.parse((await cli(['variant', '--recipe', join(work, 'merge.json'), '--export', join(work, 'out-json'), '--dtype', 'bf16', '--probes', join(t.dir, 'models', 'probes', 'perception'), '--max-new-tokens', '3', '--json'])).stdout);
    expect(fromJson.fingerprint).toBe(fromYaml.fingerprint);
    expect(fromJson.exported.dtype).toBe('BF16');
    // the same checkpoints the GraphQL test registered, by content
    const gql = await t.execute<any>('query($r: VariantRecipeInput!) { variant(recipe: $r) { fingerprint } }', { r: { recipeYaml: PASSTHROUGH } });
    expect(fromYaml.fingerprint).toBe(gql.data.variant.fingerprint);
    // scored in every setting the set supports (perception by its split; reasoning takes any example when no split is named),
    // with the accuracies the server got for the same variant
    const served = await t.execute<any>(VARIANT, { r: { recipeYaml: PASSTHROUGH } });
    const all = served.data.variant.scores.conditions.filter((c: { task: string }) => c.task === 'all').map((c: { condition: string; accuracy: number; n: number }) => [c.condition, c.accuracy, c.n]);
    expect(fromJson.scores.map((x: { setting: string }) => x.setting)).toEqual(['perception', 'reasoning']);
    expect(fromJson.scores[0].conditions.map((c: { condition: string; accuracy: number; n: number }) => [c.condition, c.accuracy, c.n])).toEqual(all);
    expect(await readFile(join(work, 'out', 'mergekit_config.yml'), 'utf8')).toContain('merge_method: passthrough');

    // with neither --probes nor --export it prints what the config maps to; directories become their registered ids
    await writeFile(join(work, 'ties.yml'), TIES.replaceAll('tiny/', `${tiny}/`));
    const checked = JSON.parse((await cli(['variant', '--recipe', join(work, 'ties.yml'), '--json'])).stdout);
    expect(checked.recipe.base).toBe('tiny/base');
    expect(checked.recipe.operations[0].models.map((x: { model: string }) => x.model)).toEqual(['tiny/sft', 'tiny/rl']);
    expect(checked.scores).toBeUndefined();
    expect(checked.exported).toBeUndefined();

    await writeFile(join(work, 'bad.yml'), PASSTHROUGH.replace('passthrough', 'nuslerp'));
    const bad = await cli(['variant', '--recipe', join(work, 'bad.yml'), '--export', join(work, 'never')]).catch((e) => e);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/'merge_method' "nuslerp" is not supported/);
    await expect(readdir(join(work, 'never'))).rejects.toThrow(/ENOENT/);
    // a recipe file outside the model roots and the working directory is not read
    const outsideFile = join(t.dir, 'outside.yml');
    await writeFile(outsideFile, PASSTHROUGH.replaceAll('tiny/', `${tiny}/`));
    const outside = await cli(['variant', '--recipe', outsideFile, '--export', join(work, 'never')]).catch((e) => e);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain(`--recipe ${outsideFile}`);
    expect(outside.stderr).toMatch(/outside/);
  }, 240_000);
});
