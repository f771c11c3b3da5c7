import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Checkpoint, writeSafetensors } from '../../src/engine/checkpoint/index.js';
import { readDeltas, type RawTensorSource } from '../../src/engine/characterize/deltas.js';
import { writeFile } from 'node:fs/promises';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deltas-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function trioOf(dtype: 'F32' | 'BF16' | 'F16', values: Float32Array[]): Promise<Record<'base' | 'sft' | 'rl', Checkpoint>> {
  const out = {} as Record<'base' | 'sft' | 'rl', Checkpoint>;
  for (const [i, role] of (['base', 'sft', 'rl'] as const).entries()) {
    const d = join(dir, dtype, role);
    await import('node:fs/promises').then((fs) => fs.mkdir(d, { recursive: true }));
    await writeFile(join(d, 'config.json'), '{}');
    await writeSafetensors(join(d, 'model.safetensors'), [{ name: 'w', dtype, shape: [3, values[i]!.length / 3], data: values[i]! }]);
    out[role] = await Checkpoint.open(d);
  }
  return out;
}

/** Hides readRaw so readDeltas takes its general (convert, then subtract) path. */
function withoutRaw(c: Checkpoint): RawTensorSource {
  return { tensors: c.tensors, readFloat32: (n) => c.readFloat32(n) };
}

describe('readDeltas', () => {
  test('small exact example: deltas, norms and cross term by hand', async () => {
    const base = new Float32Array([1, 2, 3, 4, 5, 6]);
    const sft = new Float32Array([1, 3, 3, 4, 5, 8]); // dSFT = [0,1,0,0,0,2]
    const rl = new Float32Array([2, 3, 3, 4, 5, 10]); // dRL = [1,0,0,0,0,2]
    for (const dtype of ['F32', 'BF16', 'F16'] as const) {
      const trio = await trioOf(dtype, [base, sft, rl]);
      const d = await readDeltas(trio, 'w');
      expect(Array.from(d.dSft), dtype).toEqual([0, 1, 0, 0, 0, 2]);
      expect(Array.from(d.dRl), dtype).toEqual([1, 0, 0, 0, 0, 2]);
      expect(d.froSft).toBeCloseTo(Math.sqrt(5), 14);
      expect(d.froRl).toBeCloseTo(Math.sqrt(5), 14);
      expect(d.cross).toBe(4);
      expect(d.inNorm).toBeCloseTo(Math.sqrt(1 + 9 + 9 + 16 + 25 + 64), 12);
      await Promise.all(Object.values(trio).map((c) => c.close()));
    }
  });

  test('the fused BF16 and F32 paths agree exactly with the general path', async () => {
    const n = 3 * 1001;
    const gen = (seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + seed) * (1 + (i % 13)));
    for (const dtype of ['F32', 'BF16'] as const) {
      const trio = await trioOf(dtype, [gen(1), gen(2), gen(3)]);
      const fused = await readDeltas(trio, 'w');
      const general = await readDeltas({ base: withoutRaw(trio.base), sft: withoutRaw(trio.sft), rl: withoutRaw(trio.rl) }, 'w');
      expect(fused.dSft).toEqual(general.dSft);
      expect(fused.dRl).toEqual(general.dRl);
      expect([fused.inNorm, fused.froSft, fused.froRl, fused.cross]).toEqual([general.inNorm, general.froSft, general.froRl, general.cross]);
      expect(fused.froSft).toBeGreaterThan(0);
      await Promise.all(Object.values(trio).map((c) => c.close()));
    }
  });
});
