import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { plantedExpectations, type PlantedExpectations } from '../../src/engine/fixtures/index.js';
import { createTestApp, registerPlantedTrio, type TestApp } from '../helpers/test-app.js';

const STATS = 'froNorm relativeNorm spectralNorm nuclearNorm stableRank effectiveRank conditionNumber logVolume singularValues froNormSum';

interface Stats {
  froNorm: number; relativeNorm: number; spectralNorm: number; nuclearNorm: number; stableRank: number;
  effectiveRank: number; conditionNumber: number; logVolume: number; singularValues: number[]; froNormSum: number | null;
}
interface TensorRow { name: string; index: number | null; section: string; shape: number[]; cosine: number | null; subspaceOverlap: number | null; sft: Stats; rl: Stats }
interface LayerRow { index: number; section: string; region: string | null; tensorCount: number; sft: Stats; rl: Stats }

function close(actual: number, expected: number, rel: number, label: string): void {
  const tol = rel * Math.max(1, Math.abs(expected));
  if (!(Math.abs(actual - expected) <= tol)) throw new Error(`${label}: got ${actual}, expected ${expected} (tolerance ${tol})`);
}

let t: TestApp;
let expected: PlantedExpectations;
let tensors: TensorRow[];
let layers: LayerRow[];

beforeAll(async () => {
  t = await createTestApp();
  await registerPlantedTrio(t);
  expected = plantedExpectations(t.trio);
  // topK 2: every planted delta has rank >= 2, so log volume and the top-2 subspaces are closed forms
  const r = await t.execute<{ characterization: { status: string; tensors: TensorRow[]; layers: LayerRow[] } }>(`{
    characterization(base: "planted/base", sft: "planted/sft", rl: "planted/rl", options: { topK: 2 }, waitSeconds: 120) {
      status
      tensors(first: 1000) { name index section shape cosine subspaceOverlap sft { ${STATS} } rl { ${STATS} } }
      layers { index section region tensorCount sft { ${STATS} } rl { ${STATS} } }
    } }`);
  expect(r.errors).toBeUndefined();
  expect(r.data!.characterization.status).toBe('DONE');
  tensors = r.data!.characterization.tensors;
  layers = r.data!.characterization.layers;
}, 180_000);

afterAll(async () => {
  await t?.close();
});

describe('characterization of a planted trio against closed forms', () => {
  test('every matrix of the trio is characterized, norms and biases are not', () => {
    const matrices = [...t.trio.sft.entries()].filter(([name, x]) => x.shape.length >= 2 && !/norm|ln_q/.test(name)).map(([n]) => n).sort();
    expect(tensors.map((x) => x.name)).toEqual(matrices);
  });

  test('energy and spectral metrics equal the planted spectra', () => {
    let checked = 0;
    for (const row of tensors) {
      for (const phase of ['sft', 'rl'] as const) {
        const got = row[phase];
        const want = expected.delta(row.name, phase);
        const label = `${row.name} ${phase}`;
        if (!want) {
          // nothing planted: the delta is exactly zero
          expect(got.froNorm, label).toBe(0);
          expect(got.spectralNorm, label).toBe(0);
          expect(got.effectiveRank, label).toBe(0);
          continue;
        }
        close(got.froNorm, want.fro, 1e-6, `${label} fro`);
        close(got.relativeNorm, want.relative, 1e-6, `${label} relative`);
        close(got.spectralNorm, want.spectralNorm, 1e-6, `${label} spectral`);
        close(got.nuclearNorm, want.nuclearNorm, 1e-5, `${label} nuclear`);
        close(got.stableRank, want.stableRank, 1e-6, `${label} stable rank`);
        close(got.effectiveRank, want.effectiveRank, 1e-4, `${label} effective rank`);
        close(got.logVolume, want.logVolume(2), 1e-6, `${label} log volume`);
        expect(got.singularValues).toHaveLength(2);
        close(got.singularValues[0]!, want.singularValues[0]!, 1e-6, `${label} s1`);
        close(got.singularValues[1]!, want.singularValues[1]!, 1e-6, `${label} s2`);
        if (want.conditionNumber !== null) close(got.conditionNumber, want.conditionNumber, 1e-5, `${label} condition`);
        else expect(got.conditionNumber, `${label} rank-deficient condition`).toBeGreaterThan(1e4);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(expected.deltas.some((d) => d.conditionNumber !== null)).toBe(true);
  });

  test('cosine and top-2 subspace overlap between dSFT and dRL equal the planted relations', () => {
    let checked = 0;
    for (const row of tensors) {
      const pair = expected.pair(row.name);
      if (!pair) {
        expect(row.cosine, row.name).toBeNull();
        continue;
      }
      close(row.cosine!, pair.cosine, 1e-6, `${row.name} cosine`);
      close(row.subspaceOverlap!, pair.leftOverlap(2), 1e-6, `${row.name} overlap`);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
    const overlaps = new Set(tensors.filter((x) => x.subspaceOverlap !== null).map((x) => Math.round(x.subspaceOverlap! * 1e6) / 1e6));
    expect(overlaps).toEqual(new Set([0, 1])); // both planted relations occur
  });

  test('layers hold the mean over their tensors and the sum of fro', () => {
    const llmLayer = (name: string) => /^model\.layers\.(\d+)\./.exec(name);
    for (const layer of layers.filter((l) => l.section === 'LLM')) {
      const members = tensors.filter((x) => Number(llmLayer(x.name)?.[1]) + 1 === layer.index);
      expect(layer.tensorCount).toBe(members.length);
      const fros = members.map((m) => expected.delta(m.name, 'rl')?.fro ?? 0);
      close(layer.rl.froNormSum!, fros.reduce((a, b) => a + b, 0), 1e-6, `layer ${layer.index} fro sum`);
      close(layer.rl.froNorm, fros.reduce((a, b) => a + b, 0) / fros.length, 1e-6, `layer ${layer.index} fro mean`);
    }
    const indices = layers.map((l) => l.index);
    expect(indices).toEqual([-3, -2, -1, 0, ...Array.from({ length: 12 }, (_, i) => i + 1)]);
    expect(layers.filter((l) => l.section === 'LLM').map((l) => l.region)).toEqual([
      ...Array(4).fill('EARLY'), ...Array(4).fill('MIDDLE'), ...Array(4).fill('LATE'),
    ]);
  });
});

describe('groups', () => {
  test('regions come early, middle, late; sections in network order; fro sums add up', async () => {
    const r = await t.execute<any>(`{ characterization(base: "planted/base", sft: "planted/sft", rl: "planted/rl", options: { topK: 2 }) {
      regions { key tensorCount rl { froNormSum } } sections { key tensorCount } components { key } } }`);
    const c = r.data.characterization;
    expect(c.regions.map((g: { key: string }) => g.key)).toEqual(['early', 'middle', 'late']);
    expect(c.sections.map((g: { key: string }) => g.key)).toEqual(['vision', 'projector', 'llm', 'other']);
    expect(c.components.map((g: { key: string }) => g.key)).toEqual(['attention', 'mlp', 'other']);
    const sumOfSections = c.sections.reduce((n: number, g: { tensorCount: number }) => n + g.tensorCount, 0);
    expect(sumOfSections).toBe(tensors.length);
    for (const region of c.regions) {
      const members = layers.filter((l) => l.region === region.key.toUpperCase());
      close(region.rl.froNormSum, members.reduce((a, l) => a + l.rl.froNormSum!, 0), 1e-9, `${region.key} fro sum`);
    }
  });
});
