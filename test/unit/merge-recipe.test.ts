/** Recipe validation, the region presets and recipe fingerprints. */
import { describe, expect, it } from 'vitest';
import { RecipeError } from '../../src/engine/merge/errors.js';
import { canonicalRecipe, recipeFingerprint } from '../../src/engine/merge/fingerprint.js';
import { defaultLayerCuts, presetRecipe, SPLICE_PRESETS, type SplicePreset } from '../../src/engine/merge/presets.js';
import { type MergeRecipe, validateRecipe } from '../../src/engine/merge/recipe.js';

function fieldOf(value: unknown, numLayers?: number): string {
  try {
    validateRecipe(value, numLayers);
  } catch (e) {
    expect(e).toBeInstanceOf(RecipeError);
    const field = (e as RecipeError).field;
    if (field !== '') expect((e as Error).message).toContain(`'${field}'`);
    return (e as RecipeError).field;
  }
  throw new Error('recipe was accepted');
}

const ok = (ops: unknown[]): Record<string, unknown> => ({ base: 'in', donors: ['rl', 'base0'], operations: ops });

describe('validateRecipe', () => {
  it('accepts every operation kind and returns a structured-clone-safe copy', () => {
    const recipe = ok([
      { op: 'splice', model: 'rl', layers: { from: 0, to: 2 }, component: 'attention' },
      { op: 'interpolate', donor: 'rl', alpha: [0, 1], layers: { from: 0, to: 2 }, component: 'mlp' },
      { op: 'linear', models: [{ model: 'in', weight: 1 }, { model: 'rl', weight: 2 }], layers: { from: 2, to: 3 } },
      { op: 'task_arithmetic', models: [{ model: 'rl', weight: 0.5 }], layers: { from: 3, to: 4 }, lambda: 2 },
      { op: 'ties', base: 'base0', models: [{ model: 'in', weight: 1, density: 0.5 }, { model: 'rl', weight: 1, density: [0.2, 0.8] }], layers: { from: 4, to: 5 } },
      { op: 'dare_ties', models: [{ model: 'rl', weight: 1, density: 0.9 }], layers: { from: 5, to: 6 }, rescale: false },
      { op: 'dare_linear', models: [{ model: 'rl', weight: 1, density: 0.9 }], layers: { from: 6, to: 7 } },
      { op: 'slerp', model: 'rl', t: [{ component: 'attention', value: 0.2 }, { value: [0, 1] }], layers: { from: 7, to: 8 }, scope: 'all' },
    ]);
    const v = validateRecipe(recipe, 8);
    expect(structuredClone(v)).toEqual(v);
    expect(v.operations).toHaveLength(8);
    expect(JSON.parse(JSON.stringify(v))).toEqual(recipe);
  });

  it('names the offending field', () => {
    expect(fieldOf('x')).toBe('');
    expect(fieldOf({ donors: [], operations: [] })).toBe('base');
    expect(fieldOf({ base: 'in', donors: ['in'], operations: [] })).toBe('donors[0]');
    expect(fieldOf({ base: 'in', donors: ['rl', 'rl'], operations: [] })).toBe('donors[1]');
    expect(fieldOf({ ...ok([]), extra: 1 })).toBe('extra');
    expect(fieldOf(ok([{ op: 'blend' }]))).toBe('operations[0].op');
    expect(fieldOf(ok([{ op: 'splice', model: 'sft', layers: { from: 0, to: 1 } }]))).toBe('operations[0].model');
    expect(fieldOf(ok([{ op: 'splice', model: 'rl' }]))).toBe('operations[0].layers');
    expect(fieldOf(ok([{ op: 'splice', model: 'rl', layers: { from: 3, to: 3 } }]))).toBe('operations[0].layers.to');
    expect(fieldOf(ok([{ op: 'splice', model: 'rl', layers: { from: -1, to: 3 } }]))).toBe('operations[0].layers.from');
    expect(fieldOf(ok([{ op: 'splice', model: 'rl', layers: { from: 0, to: 13 } }]), 12)).toBe('operations[0].layers.to');
    expect(fieldOf(ok([{ op: 'splice', model: 'rl', layers: { from: 0, to: 2 }, component: 'norm' }]))).toBe('operations[0].component');
    expect(fieldOf(ok([{ op: 'splice', model: 'rl', layers: { from: 0, to: 2 }, scope: 'vision' }]))).toBe('operations[0].scope');
    expect(fieldOf(ok([{ op: 'interpolate', donor: 'rl', alhpa: 0.5, layers: { from: 0, to: 2 } }]))).toBe('operations[0].alhpa');
    expect(fieldOf(ok([{ op: 'interpolate', donor: 'rl', layers: { from: 0, to: 2 } }]))).toBe('operations[0].alpha');
    expect(fieldOf(ok([{ op: 'interpolate', donor: 'in', alpha: 0.5, layers: { from: 0, to: 2 } }]))).toBe('operations[0].donor');
    expect(fieldOf(ok([{ op: 'interpolate', donor: 'rl', alpha: [], layers: { from: 0, to: 2 } }]))).toBe('operations[0].alpha');
    expect(fieldOf(ok([{ op: 'interpolate', donor: 'rl', alpha: [0, 'x'], layers: { from: 0, to: 2 } }]))).toBe('operations[0].alpha[1]');
    expect(fieldOf(ok([{ op: 'interpolate', donor: 'rl', alpha: [{ component: 'mlp', value: 1 }], layers: { from: 0, to: 2 } }]))).toBe('operations[0].alpha[0]');
    expect(fieldOf(ok([{ op: 'ties', models: [{ model: 'rl', weight: 1, density: 0 }] }]))).toBe('operations[0].models[0].density');
    expect(fieldOf(ok([{ op: 'ties', models: [{ model: 'rl', weight: 1, density: [0.5, 1.5] }] }]))).toBe('operations[0].models[0].density[1]');
    expect(fieldOf(ok([{ op: 'ties', models: [{ model: 'rl' }] }]))).toBe('operations[0].models[0].weight');
    expect(fieldOf(ok([{ op: 'task_arithmetic', models: [{ model: 'in', weight: 1 }] }]))).toBe('operations[0].models[0].model');
    expect(fieldOf(ok([{ op: 'linear', models: [] }]))).toBe('operations[0].models');
    expect(fieldOf(ok([{ op: 'linear', models: [{ model: 'rl', weight: 1, density: 0.5 }] }]))).toBe('operations[0].models[0].density');
    expect(fieldOf(ok([{ op: 'dare_linear', models: [{ model: 'rl', weight: 1 }], normalize: 'yes' }]))).toBe('operations[0].normalize');
    expect(fieldOf(ok([{ op: 'slerp', model: 'rl', t: 0.5, dotThreshold: 2 }]))).toBe('operations[0].dotThreshold');
    expect(fieldOf(ok([{ op: 'slerp', model: 'rl', t: Number.NaN }]))).toBe('operations[0].t');
    expect(fieldOf({ ...ok([]), seed: 1.5 })).toBe('seed');
  });

  it('refuses operations that cover the same tensors', () => {
    const a = { op: 'splice', model: 'rl', layers: { from: 0, to: 6 } };
    expect(fieldOf(ok([a, { op: 'interpolate', donor: 'rl', alpha: 0.5, layers: { from: 5, to: 8 }, component: 'mlp' }]))).toBe('operations[1]');
    expect(fieldOf(ok([{ op: 'linear', models: [{ model: 'rl', weight: 1 }] }, a]))).toBe('operations[1]');
    expect(fieldOf(ok([{ ...a, scope: 'all' }, { op: 'splice', model: 'rl', layers: { from: 6, to: 8 }, scope: 'all' }]))).toBe('operations[1]');
    // attention and mlp of the same layers, or adjacent ranges, are disjoint
    expect(() => validateRecipe(ok([{ ...a, component: 'attention' }, { ...a, component: 'mlp' }, { op: 'splice', model: 'rl', layers: { from: 6, to: 8 } }]))).not.toThrow();
  });
});

describe('presets', () => {
  /** owner of each layer, read back from the recipe's splices */
  function owners(recipe: MergeRecipe, n: number): string[] {
    const out = new Array<string>(n).fill(recipe.base);
    for (const op of recipe.operations) {
      if (op.op !== 'splice') throw new Error('presets only splice');
      for (let l = op.layers.from; l < op.layers.to; l++) out[l] = op.model;
    }
    return out;
  }
  const expand = (counts: [string, number][]): string[] => counts.flatMap(([m, k]) => new Array<string>(k).fill(m));

  it('cuts N = 12 into thirds 0-3, 4-7, 8-11 by default', () => {
    expect(defaultLayerCuts(12)).toEqual([4, 8]);
    expect(defaultLayerCuts(28)).toEqual([9, 18]);
    const want: Record<SplicePreset, string[]> = {
      in_early__rl_middle_late: expand([['in', 4], ['rl', 8]]),
      rl_early__in_middle_late: expand([['rl', 4], ['in', 8]]),
      in_early_middle__rl_late: expand([['in', 8], ['rl', 4]]),
      rl_early_middle__in_late: expand([['rl', 8], ['in', 4]]),
      in_early__rl_middle__in_late: expand([['in', 4], ['rl', 4], ['in', 4]]),
      rl_early__in_middle__rl_late: expand([['rl', 4], ['in', 4], ['rl', 4]]),
    };
    for (const p of SPLICE_PRESETS) {
      const r = presetRecipe(p, { sftId: 'in', rlId: 'rl', numLayers: 12 });
      expect(r.base).toBe('in');
      expect(owners(r, 12)).toEqual(want[p]);
      expect(() => validateRecipe(r, 12)).not.toThrow();
    }
  });

  it('uses the given cuts ("early 2/3" = layers < b) and can take RL as the base', () => {
    const r = presetRecipe('rl_early_middle__in_late', { sftId: 'in', rlId: 'rl', numLayers: 10, layerCuts: [2, 7] });
    expect(owners(r, 10)).toEqual(expand([['rl', 7], ['in', 3]]));
    expect(r.operations).toHaveLength(1); // the two RL thirds form one range
    const onRl = presetRecipe('rl_early__in_middle__rl_late', { sftId: 'in', rlId: 'rl', numLayers: 10, layerCuts: [2, 7], base: 'rl' });
    expect(onRl.base).toBe('rl');
    expect(owners(onRl, 10)).toEqual(expand([['rl', 2], ['in', 5], ['rl', 3]]));
  });

  it('refuses bad cuts and unknown presets', () => {
    expect(() => presetRecipe('in_early__rl_middle_late', { sftId: 'in', rlId: 'rl', numLayers: 12, layerCuts: [8, 4] })).toThrow(/'layerCuts'/);
    expect(() => presetRecipe('in_early__rl_middle_late', { sftId: 'in', rlId: 'rl', numLayers: 12, layerCuts: [4, 13] })).toThrow(/'layerCuts'/);
    expect(() => presetRecipe('nope' as SplicePreset, { sftId: 'in', rlId: 'rl', numLayers: 12 })).toThrow(/'preset'/);
  });
});

describe('recipeFingerprint', () => {
  const fps = { in: 'a'.repeat(64), rl: 'b'.repeat(64), rl2: 'c'.repeat(64), inCopy: 'a'.repeat(64) };
  const fp = (r: unknown): string => recipeFingerprint(r as MergeRecipe, { modelFingerprints: fps, numLayers: 12 });
  const interp = (alpha: number): MergeRecipe => ({ base: 'in', donors: ['rl'], operations: [{ op: 'interpolate', donor: 'rl', alpha, layers: { from: 4, to: 8 } }] });

  it('is a sha256 that ignores key order, explicit defaults, labels and the donor list', () => {
    const a = fp(interp(0.5));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(fp({ operations: [{ layers: { to: 8, from: 4 }, alpha: 0.5, donor: 'rl', op: 'interpolate' }], donors: ['rl'], base: 'in' })).toBe(a);
    expect(fp({ ...interp(0.5), label: 'x', seed: 3, operations: [{ ...interp(0.5).operations[0], component: 'layer', scope: 'llm', base: 'in', alpha: [0.5, 0.5] }] })).toBe(a);
    expect(fp({ ...interp(0.5), donors: ['rl', 'rl2'] })).toBe(a);
  });

  it('identifies models by content: renamed ids give the same fingerprint, other content another', () => {
    const a = fp(interp(0.5));
    expect(fp({ base: 'inCopy', donors: ['rl'], operations: [{ op: 'interpolate', donor: 'rl', alpha: 0.5, layers: { from: 4, to: 8 } }] })).toBe(a);
    expect(fp({ base: 'in', donors: ['rl2'], operations: [{ op: 'interpolate', donor: 'rl2', alpha: 0.5, layers: { from: 4, to: 8 } }] })).not.toBe(a);
    expect(() => fp({ base: 'in', donors: ['x'], operations: [] })).not.toThrow(); // an unused donor needs no fingerprint
    expect(() => fp({ base: 'in', donors: ['x'], operations: [{ op: 'splice', model: 'x', layers: { from: 0, to: 1 } }] })).toThrow(/'modelFingerprints' has no fingerprint for model "x"/);
  });

  it('changes with any parameter that changes the weights', () => {
    const a = fp(interp(0.5));
    expect(fp(interp(0.6))).not.toBe(a);
    expect(fp({ ...interp(0.5), operations: [{ ...interp(0.5).operations[0], component: 'attention' }] })).not.toBe(a);
    expect(fp({ ...interp(0.5), operations: [{ ...interp(0.5).operations[0], layers: { from: 4, to: 9 } }] })).not.toBe(a);
    const dare = (seed: number): unknown => ({ base: 'in', donors: ['rl'], seed, operations: [{ op: 'dare_linear', models: [{ model: 'rl', weight: 1, density: 0.5 }] }] });
    expect(fp(dare(1))).not.toBe(fp(dare(2)));
  });

  it('writes splices as maximal runs, drops no-op splices and ignores operation order', () => {
    const preset = presetRecipe('in_early__rl_middle__in_late', { sftId: 'in', rlId: 'rl', numLayers: 12 });
    const split: MergeRecipe = {
      base: 'in',
      donors: ['rl', 'inCopy'],
      operations: [
        { op: 'splice', model: 'rl', layers: { from: 6, to: 8 } },
        { op: 'splice', model: 'rl', layers: { from: 4, to: 6 }, component: 'attention' },
        { op: 'splice', model: 'rl', layers: { from: 4, to: 6 }, component: 'mlp' },
        { op: 'splice', model: 'inCopy', layers: { from: 0, to: 4 } },
      ],
    };
    // attention + mlp splices leave 'other' layer tensors to the base, so layers 4-5 differ in form from a whole-layer splice
    expect(fp(split)).not.toBe(fp(preset));
    split.operations[1] = { op: 'splice', model: 'rl', layers: { from: 4, to: 6 } };
    split.operations.splice(2, 1);
    expect(fp(split)).toBe(fp(preset));
    expect(fp({ ...split, operations: [...split.operations].reverse() })).toBe(fp(preset));
    const canon = canonicalRecipe(split, { modelFingerprints: fps, numLayers: 12 }) as { operations: unknown[] };
    expect(canon.operations).toEqual([{ op: 'splice', component: 'layer', model: fps.rl, layers: { from: 4, to: 8 } }]);
    expect(fp({ base: 'in', donors: ['inCopy'], operations: [{ op: 'splice', model: 'inCopy', layers: { from: 0, to: 12 } }] })).toBe(fp({ base: 'in', donors: [], operations: [] }));
  });
});
