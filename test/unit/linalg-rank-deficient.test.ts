import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generatePlantedTrio } from '../../src/engine/fixtures/index.js';
import { SpectralSolver } from '../../src/engine/linalg/spectral-solver.js';

let solver: SpectralSolver;
beforeAll(async () => {
  solver = await SpectralSolver.create();
});
afterAll(async () => {
  await solver?.release();
});

describe('exactly rank-deficient matrices (the common case for fine-tuning deltas)', () => {
  // these planted rank-4 deltas once made the QL iteration stall on noise-level eigenvalues
  test('planted rank-4 RL deltas of 128x256, 256x256, 1024x256 and 256x1024 give their planted spectra', async () => {
    const trio = generatePlantedTrio({ dtype: 'F16', hidden: 256, intermediate: 1024, numLayers: 6 });
    const names = ['model.layers.2.self_attn.k_proj.weight', 'model.layers.2.self_attn.o_proj.weight', 'model.layers.3.mlp.up_proj.weight', 'model.layers.3.mlp.down_proj.weight'];
    for (const name of names) {
      const planted = trio.deltas.find((d) => d.tensor === name && d.phase === 'rl')!;
      expect(planted.rank, name).toBe(4);
      const sft = trio.sft.get(name)!.data;
      const rl = trio.rl.get(name)!.data;
      const d = new Float32Array(sft.length);
      for (let i = 0; i < d.length; i++) d[i] = rl[i]! - sft[i]!;
      const { values, leftCount } = await solver.spectrum(d, planted.rows, planted.cols, { leftVectors: 50 });
      expect(values).toHaveLength(Math.min(planted.rows, planted.cols));
      for (let i = 0; i < 4; i++) expect(Math.abs(values[i]! - planted.singularValues[i]!), `${name} s${i + 1}`).toBeLessThan(1e-9 * planted.singularValues[0]!);
      // the rest is rounding noise, far below the planted values
      expect(values[4]!, name).toBeLessThan(1e-6 * values[0]!);
      expect(leftCount, name).toBe(4);
    }
  });
});
