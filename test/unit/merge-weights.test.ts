/**
 * MergedWeights over a tiny SFT/RL trio: exact identities of the merge
 * operations, runner logits of composed variants, model mismatch errors, and
 * exported variants against the zero-copy ones.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromFloat32, toFloat32 } from '../../src/engine/checkpoint/dtypes.js';
import { generateTinyModel, generateTinyTrio, writeTinyTrio, type TinyModel, type TinyTrioPaths } from '../../src/engine/fixtures/index.js';
import { ModelMismatchError } from '../../src/engine/merge/errors.js';
import { exportVariant } from '../../src/engine/merge/export.js';
import { MergedWeights } from '../../src/engine/merge/merged-weights.js';
import { presetRecipe } from '../../src/engine/merge/presets.js';
import type { MergeOperation, MergeRecipe } from '../../src/engine/merge/recipe.js';
import { SessionPool } from '../../src/engine/runtime/ort-sessions.js';
import { HookedRunner } from '../../src/engine/runtime/runner.js';
import { CheckpointWeights, MemoryWeights, type WeightSource } from '../../src/engine/runtime/weights.js';
import { bitwiseEqual, imagePrompt } from './engine-fixtures.js';

const N = 6;
const trio = generateTinyTrio({ numLayers: N });
const memory = (m: TinyModel): MemoryWeights => new MemoryWeights(m.modelConfig, new Map([...m.tensors].map(([k, t]) => [k, t.data])));
const models = { in: memory(trio.sft), rl: memory(trio.rl), base0: memory(trio.base) };
const names = [...trio.sft.tensors.keys()];
const llm = names.filter((n) => n.startsWith('model.layers.'));
const layerOf = (n: string): number => Number(/^model\.layers\.(\d+)\./.exec(n)?.[1] ?? -1);

function merged(operations: MergeOperation[], extra: Partial<MergeRecipe> = {}): MergedWeights {
  return MergedWeights.create({ recipe: { base: 'in', donors: ['rl', 'base0'], operations, ...extra }, models });
}


async function expectTensors(w: WeightSource, expected: (name: string) => Float32Array, which = names): Promise<void> {
  for (const name of which) {
    if (!bitwiseEqual(await w.getFloat32(name), expected(name))) throw new Error(`tensor ${name} differs`);
  }
}

const of = (m: TinyModel) => (name: string): Float32Array => m.tensors.get(name)!.data;

describe('identities of the merge operations (bitwise)', () => {
  it('the trio differs where the identities below could fail', () => {
    const rlOnly = llm.filter((n) => !bitwiseEqual(of(trio.sft)(n), of(trio.rl)(n)));
    expect(new Set(rlOnly.map(layerOf))).toEqual(new Set(trio.rlLayers));
    expect(trio.rlLayers.length).toBeGreaterThan(0);
  });

  it('a splice of every layer from RL is RL; the preset takes each third from its model', async () => {
    const all = merged([{ op: 'splice', model: 'rl', layers: { from: 0, to: N } }]);
    await expectTensors(all, of(trio.rl));
    const preset = MergedWeights.create({ recipe: presetRecipe('rl_early__in_middle__rl_late', { sftId: 'in', rlId: 'rl', numLayers: N }), models });
    // N = 6: early 0-1 and late 4-5 from RL, middle 2-3 and every non-layer tensor from IN
    await expectTensors(preset, (n) => (layerOf(n) >= 0 && (layerOf(n) < 2 || layerOf(n) >= 4) ? of(trio.rl)(n) : of(trio.sft)(n)));
    expect(preset.planFor('model.layers.4.mlp.up_proj.weight')).toEqual({ operation: 1, op: 'splice', models: ['rl'] });
    expect(preset.planFor('lm_head.weight')).toEqual({ operation: null, op: null, models: ['in'] });
  });

  it('a splice with scope all also takes the non-layer tensors; component splices take only theirs', async () => {
    const w = MergedWeights.create({ recipe: { base: 'base0', donors: ['rl'], operations: [{ op: 'splice', model: 'rl', layers: { from: 1, to: 3 }, component: 'mlp', scope: 'all' }] }, models });
    await expectTensors(w, (n) => {
      const l = layerOf(n);
      if (l < 0) return of(trio.rl)(n);
      const mlp = n.includes('.mlp.') || n.includes('post_attention_layernorm');
      return l >= 1 && l < 3 && mlp ? of(trio.rl)(n) : of(trio.base)(n);
    });
  });

  it('interpolation: alpha 0 is the base, alpha 1 the donor; attention-only leaves the MLP alone', async () => {
    await expectTensors(merged([{ op: 'interpolate', donor: 'rl', alpha: 0, layers: { from: 0, to: N } }]), of(trio.sft));
    await expectTensors(merged([{ op: 'interpolate', donor: 'rl', alpha: 1, layers: { from: 0, to: N } }]), of(trio.rl));
    const attn = merged([{ op: 'interpolate', donor: 'rl', alpha: 1, layers: { from: 0, to: N }, component: 'attention' }]);
    await expectTensors(attn, (n) => (n.includes('self_attn') || n.includes('input_layernorm') ? of(trio.rl)(n) : of(trio.sft)(n)));
    // a gradient [0, 1] over 6 layers: layer 0 is the base, layer 5 the donor, layer 2 is at alpha 0.4
    const grad = merged([{ op: 'interpolate', donor: 'rl', alpha: [0, 1], layers: { from: 0, to: N } }]);
    const name = 'model.layers.2.mlp.up_proj.weight';
    const got = await grad.getFloat32(name);
    const [a, b] = [of(trio.sft)(name), of(trio.rl)(name)];
    for (let i = 0; i < 5; i++) expect(got[i]).toBe(Math.fround(0.6 * a[i]! + 0.4 * b[i]!));
    await expectTensors(grad, of(trio.sft), llm.filter((n) => layerOf(n) === 0));
    await expectTensors(grad, of(trio.rl), llm.filter((n) => layerOf(n) === N - 1));
  });

  it('SLERP at t = 0 and t = 1 gives the endpoints', async () => {
    await expectTensors(merged([{ op: 'slerp', model: 'rl', t: 0 }]), of(trio.sft));
    await expectTensors(merged([{ op: 'slerp', model: 'rl', t: 1 }]), of(trio.rl));
  });

  it('linear with one model of weight 1 is that model', async () => {
    await expectTensors(merged([{ op: 'linear', models: [{ model: 'rl', weight: 1 }] }]), of(trio.rl));
    await expectTensors(merged([{ op: 'linear', models: [{ model: 'rl', weight: 1 }], normalize: false }]), of(trio.rl));
  });

  it('TIES with density 1 and one model, and DARE with density 1, equal task arithmetic', async () => {
    const ops = { base: 'base0', layers: { from: 0, to: N } } as const;
    const ta = merged([{ op: 'task_arithmetic', ...ops, models: [{ model: 'rl', weight: 0.7 }] }]);
    const taTensors = new Map(await Promise.all(llm.map(async (n) => [n, await ta.getFloat32(n)] as const)));
    expect(llm.every((n) => !bitwiseEqual(taTensors.get(n)!, of(trio.base)(n)))).toBe(true);
    const same = (w: WeightSource): Promise<void> => expectTensors(w, (n) => taTensors.get(n) ?? of(trio.sft)(n));
    await same(merged([{ op: 'ties', ...ops, models: [{ model: 'rl', weight: 0.7, density: 1 }], normalize: false }]));
    await same(merged([{ op: 'dare_linear', ...ops, models: [{ model: 'rl', weight: 0.7, density: 1 }] }]));
    await same(merged([{ op: 'dare_ties', ...ops, models: [{ model: 'rl', weight: 0.7 }] }]));
    // TIES normalizes by default: one model of weight 1 is task arithmetic with weight 1
    const ta1 = merged([{ op: 'task_arithmetic', ...ops, models: [{ model: 'rl', weight: 1 }] }]);
    const ta1Tensors = new Map(await Promise.all(llm.map(async (n) => [n, await ta1.getFloat32(n)] as const)));
    await expectTensors(merged([{ op: 'ties', ...ops, models: [{ model: 'rl', weight: 1 }] }]), (n) => ta1Tensors.get(n) ?? of(trio.sft)(n));
  });

  it('DARE with density < 1 is deterministic per seed and keeps about `density` of each task vector', async () => {
    const op = (seed: number): MergedWeights => merged([{ op: 'dare_linear', base: 'base0', models: [{ model: 'rl', weight: 1, density: 0.5 }], layers: { from: 0, to: N } }], { seed });
    const name = 'model.layers.3.mlp.up_proj.weight';
    const a = await op(1).getFloat32(name);
    expect(bitwiseEqual(a, await op(1).getFloat32(name))).toBe(true);
    expect(bitwiseEqual(a, await op(2).getFloat32(name))).toBe(false);
    const base = of(trio.base)(name);
    const rl = of(trio.rl)(name);
    let kept = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] === base[i]) continue;
      kept++;
      expect(a[i]).toBe(Math.fround(base[i]! + Math.fround(rl[i]! - base[i]!) / 0.5));
    }
    expect(Math.abs(kept - a.length / 2)).toBeLessThan(5 * Math.sqrt(a.length / 4));
  });
});

describe('model checks', () => {
  it('names the missing model, the differing config key, and tensor set or size differences', async () => {
    const recipe: MergeRecipe = { base: 'in', donors: ['rl'], operations: [{ op: 'splice', model: 'rl', layers: { from: 0, to: 2 } }] };
    const expectMismatch = (fn: () => unknown, kind: string, field: string, text: RegExp): void => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ModelMismatchError);
        expect((e as ModelMismatchError).kind).toBe(kind);
        expect((e as ModelMismatchError).field).toBe(field);
        expect((e as Error).message).toMatch(text);
        return;
      }
      throw new Error('no error');
    };
    expectMismatch(() => MergedWeights.create({ recipe, models: { in: models.in } }), 'missing-model', 'rl', /no source for model "rl"/);
    const wide = memory(generateTinyModel({ numLayers: N, hidden: 32 }));
    expectMismatch(() => MergedWeights.create({ recipe, models: { in: models.in, rl: wide } }), 'config', 'hidden_size', /model "rl" has hidden_size 32 but the base "in" has 64/);
    const fewer = new Map([...trio.rl.tensors].map(([k, t]) => [k, t.data]));
    fewer.delete('model.layers.1.mlp.up_proj.weight');
    expectMismatch(() => MergedWeights.create({ recipe, models: { in: models.in, rl: new MemoryWeights(trio.rl.modelConfig, fewer) } }), 'tensor-set', 'model.layers.1.mlp.up_proj.weight', /has no tensor/);
    const short = new Map([...trio.rl.tensors].map(([k, t]) => [k, t.data]));
    short.set('model.layers.1.mlp.up_proj.weight', new Float32Array(3));
    const w = MergedWeights.create({ recipe: { ...recipe, operations: [{ op: 'interpolate', donor: 'rl', alpha: 0.5, layers: { from: 0, to: 2 } }] }, models: { in: models.in, rl: new MemoryWeights(trio.rl.modelConfig, short) } });
    await expect(w.getFloat32('model.layers.1.mlp.up_proj.weight')).rejects.toThrow(/has 3 elements in model "rl"/);
    expect(() => MergedWeights.create({ recipe: { ...recipe, operations: [{ op: 'splice', model: 'rl', layers: { from: 0, to: N + 1 } }] }, models })).toThrow(/'operations\[0\]\.layers\.to' is 7, beyond the model's 6 decoder layers/);
  });
});

describe('runner and export', () => {
  let pool: SessionPool;
  let dir: string;
  let paths: TinyTrioPaths;
  beforeAll(async () => {
    pool = await SessionPool.create({ threads: 2 });
    dir = await mkdtemp(join(tmpdir(), 'merge-weights-'));
    paths = await writeTinyTrio(join(dir, 'trio'), { numLayers: N });
  });
  afterAll(async () => {
    await pool.release();
    await rm(dir, { recursive: true, force: true });
  });

  const inputs = [imagePrompt(trio.sft, 2, 3, 11), imagePrompt(trio.sft, 1, 4, 12)];
  async function logits(weights: WeightSource): Promise<Float32Array> {
    const runner = await HookedRunner.create({ weights, pool });
    try {
      return (await runner.forward(inputs, { positions: 'all' })).logits;
    } finally {
      await runner.release();
    }
  }

  it("a splice of every layer from RL gives RL's logits exactly; a late splice changes them", async () => {
    const rl = await logits(models.rl);
    expect(bitwiseEqual(await logits(merged([{ op: 'splice', model: 'rl', layers: { from: 0, to: N } }])), rl)).toBe(true);
    expect(bitwiseEqual(await logits(models.in), rl)).toBe(false);
  });

  it('an F32 export equals the zero-copy variant bit for bit (tensors and logits), sharded or not', async () => {
    const recipe: MergeRecipe = {
      base: 'in',
      donors: ['rl'],
      operations: [
        { op: 'interpolate', donor: 'rl', alpha: [0.2, 0.9], layers: { from: 2, to: N }, component: 'attention' },
        { op: 'ties', models: [{ model: 'rl', weight: 0.8, density: 0.6 }], layers: { from: 2, to: N }, component: 'mlp' },
      ],
    };
    const variant = await MergedWeights.open(recipe, { in: paths.sft, rl: paths.rl });
    try {
      const one = await exportVariant(variant, join(dir, 'one'), { dtype: 'F32', copyFrom: paths.sft });
      expect(one.shards).toEqual(['model.safetensors']);
      const sharded = await exportVariant(variant, join(dir, 'sharded'), { dtype: 'F32', copyFrom: paths.sft, maxShardBytes: 100_000 });
      expect(sharded.shards.length).toBeGreaterThan(2);
      expect(sharded.totalBytes).toBe(one.totalBytes);
      expect((await readdir(sharded.dir)).sort()).toEqual([...sharded.shards, 'config.json', 'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json'].sort());
      expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
      const zeroCopy = await logits(variant);
      for (const out of [one.dir, sharded.dir]) {
        const exported = await CheckpointWeights.open(out);
        try {
          expect([...exported.tensorNames].sort()).toEqual([...variant.tensorNames].sort());
          for (const n of names) expect(bitwiseEqual(await exported.getFloat32(n), await variant.getFloat32(n))).toBe(true);
          expect(bitwiseEqual(await logits(exported), zeroCopy)).toBe(true);
        } finally {
          await exported.close();
        }
      }
      await expect(exportVariant(variant, one.dir, { dtype: 'F32', copyFrom: paths.sft })).rejects.toThrow(/already exists/);
      // BF16 stores each merged value rounded to bfloat16
      const bf = await exportVariant(variant, join(dir, 'bf16'), { dtype: 'BF16', copyFrom: paths.sft });
      const exported = await CheckpointWeights.open(bf.dir);
      try {
        for (const n of llm.filter((x) => layerOf(x) >= 2)) {
          const v = await variant.getFloat32(n);
          expect(bitwiseEqual(await exported.getFloat32(n), toFloat32(fromFloat32(v, 'BF16'), 'BF16'))).toBe(true);
        }
      } finally {
        await exported.close();
      }
    } finally {
      await variant.close();
    }
  });
});
