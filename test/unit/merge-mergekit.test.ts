/**
 * mergekit configs in the shapes of mergekit's examples (our own model
 * names and values), each mapped to the recipe written by hand; refusals by
 * YAML path; recipe -> mergekit YAML -> recipe keeps the fingerprint.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { MergekitConfigError, parseMergekitConfig, presetRecipe, recipeFingerprint, renameRecipeModels, SPLICE_PRESETS, toMergekitConfig, type MergeRecipe } from '../../src/engine/merge/index.js';

const N = 12;
const FPS = { in: 'f-in', rl: 'f-rl', base0: 'f-base0', math: 'f-math', chat: 'f-chat' };
const fp = (r: MergeRecipe) => recipeFingerprint(r, { modelFingerprints: FPS, numLayers: N });

function refusal(text: string, numLayers?: number): MergekitConfigError {
  try {
    parseMergekitConfig(text, { numLayers });
  } catch (err) {
    expect(err).toBeInstanceOf(MergekitConfigError);
    return err as MergekitConfigError;
  }
  throw new Error('expected a refusal');
}

describe('mergekit configs as recipes', () => {
  test('passthrough frankenmerge: contiguous slices become whole-layer splices from the non-base models', () => {
    const yaml = `
slices:
  - sources:
      - model: in
        layer_range: [0, 4]
  - sources:
      - model: rl
        layer_range: [4, 9]
  - sources:
      - model: in
        layer_range: [9, 12]
merge_method: passthrough
dtype: bfloat16
`;
    const out = parseMergekitConfig(yaml, { numLayers: N });
    expect(out.recipe).toEqual({ base: 'in', donors: ['rl'], operations: [{ op: 'splice', model: 'rl', layers: { from: 4, to: 9 } }] });
    expect(out.dtype).toBe('BF16');
    expect(out.method).toBe('passthrough');
    // the last slice is the base's: norm and head agree with mergekit, so no such note
    expect(out.notes.some((n) => n.includes('lm_head'))).toBe(false);
    // it is the preset 'in_early__rl_middle__in_late' with cuts [4, 9]
    expect(fp(out.recipe)).toBe(fp(presetRecipe('in_early__rl_middle__in_late', { sftId: 'in', rlId: 'rl', numLayers: N, layerCuts: [4, 9] })));
  });

  test('passthrough ending in another model says mergekit would take the head from it', () => {
    const out = parseMergekitConfig('merge_method: passthrough\nslices:\n  - sources: [{ model: in, layer_range: [0, 5] }]\n  - sources: [{ model: rl, layer_range: [5, 12] }]\n', { numLayers: N });
    expect(out.recipe.operations).toEqual([{ op: 'splice', model: 'rl', layers: { from: 5, to: 12 } }]);
    expect(out.notes.find((n) => n.includes('lm_head'))).toMatch(/"rl".*"in"/);
  });

  test('stacked slices (a deeper model, as in a 44-layer frankenmerge) are refused at the slice that overlaps', () => {
    const e = refusal('slices:\n  - sources:\n    - model: in\n      layer_range: [0, 8]\n  - sources:\n    - model: rl\n      layer_range: [6, 12]\nmerge_method: passthrough\n');
    expect(e.field).toBe('slices[1].sources[0].layer_range');
    expect(e.unsupported).toBe(true);
    expect(e.message).toMatch(/starts at layer 6.*at layer 8/);
    const short = refusal('slices:\n  - sources:\n    - model: in\n      layer_range: [0, 10]\nmerge_method: passthrough\n', N);
    expect(short.field).toBe('slices[0].sources[0].layer_range');
    expect(short.message).toMatch(/ends at layer 10.*12 layers/);
  });

  test('linear: every model with its weight over every tensor (scope all); the first model is the base', () => {
    const yaml = `
models:
  - model: in
    parameters:
      weight: 1.0
  - model: rl
    parameters:
      weight: 0.3
  - model: chat
    parameters:
      weight: 0.5
merge_method: linear
dtype: float16
`;
    const out = parseMergekitConfig(yaml);
    expect(out.recipe).toEqual({
      base: 'in',
      donors: ['rl', 'chat'],
      operations: [{ op: 'linear', scope: 'all', models: [{ model: 'in', weight: 1 }, { model: 'rl', weight: 0.3 }, { model: 'chat', weight: 0.5 }] }],
    });
    expect(out.dtype).toBe('F16');
  });

  test('ties: density and weight gradients, a filtered weight, normalize; int8_mask ignored with a note', () => {
    const yaml = `
models:
  - model: in
    parameters:
      density: [1, 0.7, 0.1]
      weight: 1.0
  - model: rl
    parameters:
      density: 0.5
      weight: [0, 0.3, 0.7, 1]
  - model: math
    parameters:
      density: 0.33
      weight:
        - filter: mlp
          value: 0.5
        - value: 0
merge_method: ties
base_model: base0
parameters:
  normalize: true
  int8_mask: true
dtype: float16
`;
    const out = parseMergekitConfig(yaml, { numLayers: N });
    expect(out.recipe).toEqual({
      base: 'base0',
      donors: ['in', 'rl', 'math'],
      operations: [{
        op: 'ties',
        scope: 'all',
        normalize: true,
        models: [
          { model: 'in', weight: 1, density: [1, 0.7, 0.1] },
          { model: 'rl', weight: [0, 0.3, 0.7, 1], density: 0.5 },
          { model: 'math', weight: [{ nameContains: 'mlp', value: 0.5 }, { value: 0 }], density: 0.33 },
        ],
      }],
    });
    expect(out.notes.join(' ')).toMatch(/int8_mask is ignored/);
    expect(out.notes.join(' ')).toMatch(/t = 1 for the final norm and lm_head; current mergekit uses t = 0/);
  });

  test('dare_ties: the base listed among the models is dropped (task vectors are relative to it); rescale, lambda and default weight/density', () => {
    const yaml = `
models:
  - model: base0
  - model: in
    parameters:
      density: 0.6
  - model: rl
    parameters:
      weight: 0.8
merge_method: dare_ties
base_model: base0
parameters:
  weight: 0.5
  density: 0.4
  rescale: false
  lambda: 1.5
frankenscope:
  seed: 7
`;
    const out = parseMergekitConfig(yaml);
    expect(out.recipe).toEqual({
      base: 'base0',
      donors: ['in', 'rl'],
      seed: 7,
      operations: [{ op: 'dare_ties', scope: 'all', rescale: false, lambda: 1.5, models: [{ model: 'in', weight: 0.5, density: 0.6 }, { model: 'rl', weight: 0.8, density: 0.4 }] }],
    });
  });

  test('dare_linear and task_arithmetic map their parameters', () => {
    const dl = parseMergekitConfig('merge_method: dare_linear\nbase_model: base0\nmodels:\n  - model: rl\n    parameters: { weight: 1, density: 0.9 }\nparameters: { normalize: true }\n');
    expect(dl.recipe.operations).toEqual([{ op: 'dare_linear', scope: 'all', normalize: true, models: [{ model: 'rl', weight: 1, density: 0.9 }] }]);
    // constant parameters evaluate the same everywhere: no gradient note
    expect(dl.notes).toEqual([]);
    const ta = parseMergekitConfig('merge_method: task_arithmetic\nbase_model: base0\nmodels:\n  - model: base0\n  - model: in\n    parameters: { weight: 0.7 }\n  - model: rl\n    parameters: { weight: -0.2 }\nparameters: { lambda: 0.9, normalize: false }\ndtype: float32\n');
    expect(ta.recipe).toEqual({
      base: 'base0',
      donors: ['in', 'rl'],
      operations: [{ op: 'task_arithmetic', scope: 'all', normalize: false, lambda: 0.9, models: [{ model: 'in', weight: 0.7 }, { model: 'rl', weight: -0.2 }] }],
    });
    expect(ta.dtype).toBe('F32');
  });

  test('slerp over one slice with a t gradient per self_attn / mlp filter; the models syntax is the same variant', () => {
    const yaml = `
slices:
  - sources:
      - model: in
        layer_range: [0, 12]
      - model: rl
        layer_range: [0, 12]
merge_method: slerp
base_model: in
parameters:
  t:
    - filter: self_attn
      value: [0, 0.5, 0.3, 0.7, 1]
    - filter: mlp
      value: [1, 0.5, 0.7, 0.3, 0]
    - value: 0.5
dtype: bfloat16
`;
    const out = parseMergekitConfig(yaml, { numLayers: N });
    const t = [{ nameContains: 'self_attn', value: [0, 0.5, 0.3, 0.7, 1] }, { nameContains: 'mlp', value: [1, 0.5, 0.7, 0.3, 0] }, { value: 0.5 }];
    expect(out.recipe).toEqual({ base: 'in', donors: ['rl'], operations: [{ op: 'slerp', model: 'rl', t, layers: { from: 0, to: 12 }, scope: 'all' }] });
    const models = parseMergekitConfig('models:\n  - model: in\n  - model: rl\nmerge_method: slerp\nbase_model: in\nparameters:\n  t:\n    - filter: self_attn\n      value: [0, 0.5, 0.3, 0.7, 1]\n    - filter: mlp\n      value: [1, 0.5, 0.7, 0.3, 0]\n    - value: 0.5\n');
    expect(models.recipe.operations).toEqual([{ op: 'slerp', model: 'rl', t, scope: 'all' }]);
    expect(fp(models.recipe)).toBe(fp(out.recipe));
    // and the same operations written as a JSON recipe
    expect(fp({ base: 'in', donors: ['rl'], operations: [{ op: 'slerp', model: 'rl', t, scope: 'all' }] })).toBe(fp(out.recipe));
  });

  test("a slice's own parameters override the top level's, and are named where they were written", () => {
    const yaml = 'merge_method: slerp\nbase_model: in\nslices:\n  - sources:\n      - { model: in, layer_range: [0, 12] }\n      - { model: rl, layer_range: [0, 12] }\n    parameters:\n      t: [0, 1]\nparameters:\n  t: 0.5\n';
    expect(parseMergekitConfig(yaml).recipe.operations).toEqual([{ op: 'slerp', model: 'rl', t: [0, 1], layers: { from: 0, to: 12 }, scope: 'all' }]);
    expect(refusal(yaml.replace('t: [0, 1]', 't: [0, "x"]')).field).toBe('slices[0].parameters.t[1]');
    const scale = refusal('merge_method: passthrough\nslices:\n  - sources:\n      - { model: in, layer_range: [0, 12] }\n    parameters: { scale: 0.5 }\n');
    expect(scale.field).toBe('slices[0].parameters.scale');
    expect(scale.unsupported).toBe(true);
  });

  test('a YAML model name maps through modelId (e.g. a path to its registered id)', () => {
    const out = parseMergekitConfig('merge_method: linear\nmodels:\n  - model: ./ckpt/in\n    parameters: { weight: 1 }\n  - model: ./ckpt/rl\n    parameters: { weight: 1 }\n', { modelId: (r) => r.replace('./ckpt/', '') });
    expect(out.recipe.base).toBe('in');
    expect(out.recipe.donors).toEqual(['rl']);
  });
});

describe('refusals name the YAML path', () => {
  test.each(['nuslerp', 'model_stock', 'della', 'breadcrumbs', 'sce', 'karcher'])('merge_method %s is unsupported', (method) => {
    const e = refusal(`merge_method: ${method}\nbase_model: base0\nmodels:\n  - model: in\n  - model: rl\n`);
    expect(e.field).toBe('merge_method');
    expect(e.unsupported).toBe(true);
    expect(e.message).toContain(`"${method}" is not supported`);
  });

  test.each([
    ['merge_method: linear\nmodels:\n  - model: in\n    parameters: { weight: 1 }\nrandom_key: 3\n', 'random_key', true, /not supported at the top level/],
    ['merge_method: linear\nmodels:\n  - model: in\n    parameters: { weight: 1 }\ntokenizer_source: union\n', 'tokenizer_source', true, /"union".*base model's tokenizer/],
    ['merge_method: linear\nmodules:\n  text: {}\n', 'modules', true, /per-module/],
    ['merge_method: ties\nbase_model: base0\nmodels:\n  - model: in\n    parameters: { weight: 1, epsilon: 0.1 }\n', 'models[0].parameters.epsilon', true, /supported: weight, density/],
    ['merge_method: ties\nbase_model: base0\nmodels:\n  - model: in\n    parameters: { density: 0.5 }\n', 'models[0].parameters.weight', false, /is required for merge_method ties/],
    ['merge_method: ties\nbase_model: base0\nmodels:\n  - model: in\n    parameters: { weight: 1, density: [0.5, 1.5] }\n', 'models[0].parameters.density[1]', false, /\(0, 1\], got 1.5/],
    ['merge_method: ties\nmodels:\n  - model: in\n    parameters: { weight: 1 }\n', 'base_model', false, /required for merge_method ties/],
    ['merge_method: linear\nmodels:\n  - model: in\n    parameters:\n      weight:\n        - filter: mlp\n          value: 1\n', 'models[0].parameters.weight[0]', true, /no filter/],
    ['merge_method: linear\nmodels:\n  - model: in\n    parameters: { weight: "heavy" }\n', 'models[0].parameters.weight', false, /finite number, got "heavy"/],
    ['merge_method: slerp\nbase_model: in\nmodels:\n  - model: in\n  - model: rl\n  - model: chat\nparameters: { t: 0.5 }\n', 'models[2]', true, /exactly two models/],
    ['merge_method: slerp\nbase_model: in\nmodels:\n  - model: in\n  - model: rl\n', 'parameters.t', false, /required/],
    ['merge_method: slerp\nbase_model: in\nslices:\n  - sources:\n      - { model: in, layer_range: [0, 12] }\n      - { model: rl, layer_range: [2, 14] }\nparameters: { t: 0.5 }\n', 'slices[0].sources[1].layer_range', true, /same layers/],
    ['merge_method: linear\nmodels:\n  - model: in+my-lora\n    parameters: { weight: 1 }\n', 'models[0].model', true, /LoRA/],
    ['merge_method: linear\nmodels:\n  - model: in\n    parameters: { weight: 1 }\ndtype: float8\n', 'dtype', true, /float8/],
    ['merge_method: linear\nmodels: []\n', 'models', false, /non-empty/],
    ['merge_method: linear\n', 'models', false, /exactly one of 'models' or 'slices'/],
  ])('%#: %s -> %s', (text, field, isUnsupported, message) => {
    const e = refusal(text);
    expect(e.field).toBe(field);
    expect(e.unsupported).toBe(isUnsupported);
    expect(e.message).toMatch(message);
    expect(e.message).toContain(`'${field}'`);
  });

  test('YAML syntax errors name the line; duplicate keys are refused; the config must be a mapping', () => {
    expect(refusal('merge_method: linear\nmodels:\n  - model: [in\n').message).toMatch(/not valid YAML \(line \d+/);
    expect(refusal('merge_method: linear\nmerge_method: ties\n').message).toMatch(/not valid YAML.*unique/i);
    expect(refusal('- a\n- b\n').message).toMatch(/must be a YAML mapping/);
    expect(refusal('').message).toMatch(/empty/);
    // aliases that expand a few lines into millions of nodes are refused, not expanded
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`), 'merge_method: linear'].join('\n');
    const e = refusal(bomb);
    expect(e.field).toBe('');
    expect(e.message).toMatch(/cannot be read: .*alias/i);
  });

  test('an overlapping layer range is refused with the slice it comes from once the layer count is known', () => {
    const e = refusal('merge_method: slerp\nbase_model: in\nslices:\n  - sources:\n      - { model: in, layer_range: [0, 14] }\n      - { model: rl, layer_range: [0, 14] }\nparameters: { t: 0.5 }\n', N);
    expect(e.field).toBe('slices[0].sources[0].layer_range');
    expect(e.message).toMatch(/model of 14 layers/);
  });
});

describe('recipes as mergekit YAML', () => {
  test.each(SPLICE_PRESETS.map((p) => [p]))('preset %s round-trips through passthrough slices with its fingerprint', (preset) => {
    const recipe = presetRecipe(preset, { sftId: 'in', rlId: 'rl', numLayers: N });
    const out = toMergekitConfig(recipe, { numLayers: N, dtype: 'BF16' });
    expect(out.yaml).not.toBeNull();
    const back = parseMergekitConfig(out.yaml!, { numLayers: N });
    expect(back.method).toBe('passthrough');
    expect(back.dtype).toBe('BF16');
    expect(back.recipe.label).toBe(preset);
    expect(fp(back.recipe)).toBe(fp(recipe));
  });

  test('the YAML of a splice is in mergekit\'s shape: contiguous slices covering every layer', () => {
    const out = toMergekitConfig(presetRecipe('in_early__rl_middle_late', { sftId: 'in', rlId: 'rl', numLayers: N }), { numLayers: N });
    expect(out.yaml).toContain('merge_method: passthrough');
    expect(out.yaml).toContain('layer_range: [0, 4]');
    expect(out.yaml).toContain('layer_range: [4, 12]');
    expect(out.yaml).toMatch(/# note: .*lm_head from "rl"/);
  });

  test('a single merge over the whole model round-trips, gradients, filters, seed and label included', () => {
    const recipes: MergeRecipe[] = [
      { base: 'base0', donors: ['in', 'rl'], seed: 3, label: 'dare', operations: [{ op: 'dare_ties', scope: 'all', rescale: false, lambda: 0.8, models: [{ model: 'in', weight: [0, 1], density: 0.5 }, { model: 'rl', weight: [{ nameContains: 'mlp', value: [0.2, 0.4] }, { value: 1 }], density: [0.3, 0.9] }] }] },
      { base: 'in', donors: ['rl'], operations: [{ op: 'slerp', model: 'rl', scope: 'all', t: [{ nameContains: 'self_attn', value: [0, 1] }, { value: 0.25 }] }] },
      { base: 'in', donors: ['rl', 'chat'], operations: [{ op: 'linear', scope: 'all', normalize: false, models: [{ model: 'rl', weight: 0.5 }, { model: 'chat', weight: 0.5 }] }] },
      { base: 'base0', donors: ['in', 'rl'], operations: [{ op: 'ties', scope: 'all', layers: { from: 0, to: N }, models: [{ model: 'in', weight: 1, density: 0.2 }, { model: 'rl', weight: 1 }] }] },
      { base: 'base0', donors: ['rl'], operations: [{ op: 'task_arithmetic', scope: 'all', normalize: true, models: [{ model: 'rl', weight: 2 }] }] },
    ];
    for (const recipe of recipes) {
      const out = toMergekitConfig(recipe, { numLayers: N });
      expect(out.yaml, JSON.stringify(recipe)).not.toBeNull();
      expect(fp(parseMergekitConfig(out.yaml!, { numLayers: N }).recipe)).toBe(fp(recipe));
    }
    // a different seed is a different DARE variant, and the YAML carries it
    const reseeded = toMergekitConfig({ ...recipes[0]!, seed: 4 }, { numLayers: N });
    expect(fp(parseMergekitConfig(reseeded.yaml!).recipe)).not.toBe(fp(recipes[0]!));
  });

  test('recipes without a mergekit equivalent get a reason instead of a YAML', () => {
    const cases: [MergeRecipe, RegExp][] = [
      [{ base: 'in', donors: ['rl'], operations: [{ op: 'interpolate', donor: 'rl', alpha: 0.5, layers: { from: 0, to: N } }] }, /interpolate/],
      [{ base: 'in', donors: ['rl'], operations: [{ op: 'splice', model: 'rl', layers: { from: 4, to: 8 }, component: 'mlp' }] }, /mlp sub-block/],
      [{ base: 'in', donors: ['rl'], operations: [{ op: 'slerp', model: 'rl', t: 0.5 }] }, /scope 'all'/],
      [{ base: 'in', donors: ['rl'], operations: [{ op: 'slerp', model: 'rl', t: 0.5, scope: 'all', layers: { from: 2, to: N } }] }, /layers \[2, 12\)/],
      [{ base: 'in', donors: ['rl'], operations: [{ op: 'slerp', model: 'rl', t: [{ component: 'attention', value: 1 }, { value: 0 }], scope: 'all' }] }, /component 'attention'/],
      [{ base: 'in', donors: ['rl'], operations: [{ op: 'slerp', model: 'rl', t: 0.5, scope: 'all', dotThreshold: 0.9 }] }, /dot threshold/],
    ];
    for (const [recipe, reason] of cases) {
      const out = toMergekitConfig(recipe, { numLayers: N });
      expect(out.yaml).toBeNull();
      expect('reason' in out && out.reason).toMatch(reason);
    }
  });

  test('renameRecipeModels renames every model reference', () => {
    const r: MergeRecipe = { base: 'a', donors: ['b'], operations: [{ op: 'ties', base: 'a', scope: 'all', models: [{ model: 'b', weight: 1 }] }] };
    expect(renameRecipeModels(r, (id) => `x/${id}`)).toEqual({ base: 'x/a', donors: ['x/b'], operations: [{ op: 'ties', base: 'x/a', scope: 'all', models: [{ model: 'x/b', weight: 1 }] }] });
  });
});

describe('the example configs in docs/mergekit', () => {
  const SFT = 'qwen-vl-sft';
  const RL = 'qwen-vl-rl';
  const BASE = 'qwen-vl-base';
  const read = (name: string) => readFileSync(new URL(`../../docs/mergekit/${name}`, import.meta.url), 'utf8');
  const cases: [string, MergeRecipe, string][] = [
    ['passthrough-rl-late.yml', { base: SFT, donors: [RL], operations: [{ op: 'splice', model: RL, layers: { from: 9, to: 28 } }] }, 'BF16'],
    ['linear-average.yml', { base: SFT, donors: [RL], operations: [{ op: 'linear', scope: 'all', models: [{ model: SFT, weight: 0.6 }, { model: RL, weight: 0.4 }] }] }, 'F16'],
    ['task-arithmetic.yml', { base: BASE, donors: [SFT, RL], operations: [{ op: 'task_arithmetic', scope: 'all', lambda: 1, models: [{ model: SFT, weight: 1 }, { model: RL, weight: 0.5 }] }] }, 'BF16'],
    ['ties-gradient.yml', {
      base: BASE, donors: [SFT, RL],
      operations: [{ op: 'ties', scope: 'all', normalize: true, models: [{ model: SFT, weight: 1, density: [1, 0.6, 0.2] }, { model: RL, weight: [{ nameContains: 'mlp', value: [0.2, 0.8] }, { value: 0.5 }], density: 0.5 }] }],
    }, 'BF16'],
    ['dare-ties.yml', { base: BASE, donors: [SFT, RL], seed: 1, operations: [{ op: 'dare_ties', scope: 'all', normalize: false, models: [{ model: SFT, weight: 0.5, density: 0.3 }, { model: RL, weight: 0.5, density: 0.3 }] }] }, 'BF16'],
    ['slerp-attention-mlp.yml', {
      base: SFT, donors: [RL],
      operations: [{ op: 'slerp', model: RL, layers: { from: 0, to: 28 }, scope: 'all', t: [{ nameContains: 'self_attn', value: [0, 0.25, 0.5, 0.75, 1] }, { nameContains: 'mlp', value: [1, 0.75, 0.5, 0.25, 0] }, { value: 0.5 }] }],
    }, 'BF16'],
  ];
  test.each(cases)('%s maps to its recipe for a 28-layer model', (file, expected, dtype) => {
    const out = parseMergekitConfig(read(file), { numLayers: 28 });
    expect(out.recipe).toEqual(expected);
    expect(out.dtype).toBe(dtype);
  });

  test('the passthrough example is the preset it says it is', () => {
    const fps = { [SFT]: 'f-sft', [RL]: 'f-rl' };
    const f = (r: MergeRecipe) => recipeFingerprint(r, { modelFingerprints: fps, numLayers: 28 });
    expect(f(parseMergekitConfig(read('passthrough-rl-late.yml'), { numLayers: 28 }).recipe)).toBe(f(presetRecipe('in_early__rl_middle_late', { sftId: SFT, rlId: RL, numLayers: 28 })));
  });
});
