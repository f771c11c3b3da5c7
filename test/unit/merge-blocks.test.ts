/**
 * Composing a merged tensor a block of rows at a time (so an embedding or a
 * 7B MLP weight merged by TIES, DARE, SLERP or linear is never held whole
 * per model) gives, bit for bit, what composing it whole gives, for every
 * method and for any rows asked; TIES keeps the same entries when ties of the
 * threshold fall across blocks.
 */
import { describe, expect, it } from 'vitest';
import { generateTinyTrio, type TinyModel } from '../../src/engine/fixtures/index.js';
import { MergedWeights } from '../../src/engine/merge/merged-weights.js';
import { magnitudeTrim } from '../../src/engine/merge/methods.js';
import type { MergeOperation } from '../../src/engine/merge/recipe.js';
import { MemoryWeights } from '../../src/engine/runtime/weights.js';
import { bitwiseEqual } from './engine-fixtures.js';

const N = 4;
const trio = generateTinyTrio({ numLayers: N });
const memory = (m: TinyModel): MemoryWeights => new MemoryWeights(m.modelConfig, new Map([...m.tensors].map(([k, t]) => [k, t.data])));
const models = { in: memory(trio.sft), rl: memory(trio.rl), base0: memory(trio.base) };
const shapeOf = (m: TinyModel) => new Map([...m.tensors].map(([k, t]) => [k, t.shape as readonly number[]]));
const shapes = new Map([['in', shapeOf(trio.sft)], ['rl', shapeOf(trio.rl)], ['base0', shapeOf(trio.base)]]);
const names = [...trio.sft.tensors.keys()];
const embed = 'model.embed_tokens.weight';

const all = { layers: { from: 0, to: N }, scope: 'all' as const };
const operations: [string, MergeOperation][] = [
  // the trio's SFT and RL share their embedding; the base's differs
  ['interpolate', { op: 'interpolate', donor: 'base0', alpha: [0.2, 0.9], ...all }],
  ['linear', { op: 'linear', models: [{ model: 'in', weight: 0.6 }, { model: 'base0', weight: 0.3 }], ...all }],
  ['task arithmetic', { op: 'task_arithmetic', base: 'base0', models: [{ model: 'in', weight: 0.5 }, { model: 'rl', weight: 0.8 }], ...all }],
  ['TIES', { op: 'ties', base: 'base0', models: [{ model: 'in', weight: 0.5, density: 0.4 }, { model: 'rl', weight: 0.8, density: 0.7 }], ...all }],
  ['DARE linear', { op: 'dare_linear', base: 'base0', models: [{ model: 'in', weight: 0.5, density: 0.5 }, { model: 'rl', weight: 0.8, density: 0.3 }], ...all }],
  ['DARE TIES', { op: 'dare_ties', base: 'base0', models: [{ model: 'in', weight: 1, density: 0.6 }, { model: 'rl', weight: 1, density: 0.6 }], ...all }],
  ['SLERP', { op: 'slerp', model: 'base0', t: 0.35, ...all }],
];

const variant = (operation: MergeOperation, blocks: 'whole' | 'blocks') =>
  MergedWeights.create({
    recipe: { base: 'in', donors: ['rl', 'base0'], operations: [operation], seed: 3 },
    models,
    shapes,
    // blocks of 50 elements: every matrix of the tiny trio spans several
    ...(blocks === 'whole' ? { composeInBlocksAbove: Infinity } : { composeInBlocksAbove: 0, composeBlockElements: 50 }),
  });

describe('composing in blocks', () => {
  for (const [label, operation] of operations) {
    it(`${label}: every tensor equals the whole composition, and rows read alone equal its rows`, async () => {
      const whole = variant(operation, 'whole');
      const blocks = variant(operation, 'blocks');
      const differing: string[] = [];
      for (const name of names) if (!bitwiseEqual(await blocks.getFloat32(name), await whole.getFloat32(name))) differing.push(name);
      expect(differing).toEqual([]);
      const wholeEmbed = await whole.getFloat32(embed);
      const H = trio.sft.modelConfig.hiddenSize;
      const V = trio.sft.modelConfig.vocabSize;
      // rows inside one block, across blocks, the last one; asked of a fresh variant and of one that composed before
      for (const v of [variant(operation, 'blocks'), blocks]) {
        for (const [start, count] of [[0, 1], [7, 3], [V - 1, 1], [1, V - 1]] as const) {
          expect(bitwiseEqual(await v.getFloat32Rows(embed, start, count), wholeEmbed.subarray(start * H, (start + count) * H))).toBe(true);
        }
      }
      // the composition changed something, so the equalities above could fail
      expect(bitwiseEqual(wholeEmbed, await models.in.getFloat32(embed))).toBe(false);
    });
  }

  it('TIES keeps the lower-index ties of its threshold when they fall across blocks', async () => {
    // task vectors of few distinct magnitudes: the threshold has many ties, spread over every block
    const V = 40;
    const H = 5;
    const config = trio.sft.modelConfig;
    const base = new Float32Array(V * H);
    const tuned = Float32Array.from({ length: V * H }, (_, i) => [0, 1, -1, 2, -2, 1][(i * 7) % 6]!);
    const pair = {
      in: new MemoryWeights({ ...config, vocabSize: V, hiddenSize: H }, new Map([['w', base]])),
      rl: new MemoryWeights({ ...config, vocabSize: V, hiddenSize: H }, new Map([['w', tuned]])),
    };
    const op: MergeOperation = { op: 'ties', base: 'in', models: [{ model: 'rl', weight: 1, density: 0.37 }], normalize: false, ...all };
    const shape = new Map([['w', [V, H] as readonly number[]]]);
    const blocks = MergedWeights.create({ recipe: { base: 'in', donors: ['rl'], operations: [op] }, models: pair, shapes: new Map([['in', shape], ['rl', shape]]), composeInBlocksAbove: 0, composeBlockElements: 15 });
    const expected = magnitudeTrim(tuned, 0.37);
    expect(bitwiseEqual(await blocks.getFloat32('w'), expected)).toBe(true);
    expect(bitwiseEqual(await blocks.getFloat32Rows('w', 13, 9), expected.subarray(13 * H, 22 * H))).toBe(true);
    // floor(0.37 * 200) = 74 kept: all 66 of magnitude 2 and the first 8 of magnitude 1
    expect(expected.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0)).toBe(74);
    const ones = [...expected.keys()].filter((i) => Math.abs(tuned[i]!) === 1);
    expect(ones.filter((i) => expected[i] !== 0)).toEqual(ones.slice(0, 8));
  });
});
