import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint } from '../../src/engine/checkpoint/index.js';
import { plantedExpectations, writePlantedTrio, type PlantedDelta, type PlantedTrio } from '../../src/engine/fixtures/index.js';

// Default dims: 12 decoder layers (early 0-3, middle 4-7, late 8-11), hidden 64, F32 storage.
let root: string;
let trio: PlantedTrio;
const ckpt: Record<'base' | 'sft' | 'rl', Checkpoint> = {} as never;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-fixtures-planted-'));
  const written = await writePlantedTrio(root, { seed: 3 });
  trio = written.trio;
  for (const phase of ['base', 'sft', 'rl'] as const) ckpt[phase] = await Checkpoint.open(written[phase]);
});
afterAll(async () => {
  for (const c of Object.values(ckpt)) await c.close();
  await rm(root, { recursive: true, force: true });
});

/** The stored difference W_phase - W_previous, read from the files, in float64 (row-major rows x cols). */
async function storedDelta(tensor: string, phase: 'sft' | 'rl'): Promise<Float64Array> {
  const [from, to] = phase === 'sft' ? [ckpt.base, ckpt.sft] : [ckpt.sft, ckpt.rl];
  const a = await from.readFloat32(tensor);
  const b = await to.readFloat32(tensor);
  return Float64Array.from(b, (v, i) => v - a[i]!);
}

function column(m: Float64Array, rows: number, k: number): Float64Array {
  return m.subarray(k * rows, (k + 1) * rows);
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
/** ||D^T u|| for D row-major rows x cols. */
function normDtU(d: Float64Array, rows: number, cols: number, u: ArrayLike<number>): number {
  const out = new Float64Array(cols);
  for (let i = 0; i < rows; i++) if (u[i] !== 0) for (let j = 0; j < cols; j++) out[j]! += d[i * cols + j]! * u[i]!;
  return Math.sqrt(dot(out, out));
}

describe('planted deltas reproduce exactly from the stored files', () => {
  it('W_phase - W_previous == U diag(s) V^T with orthonormal U, V and descending positive s', async () => {
    expect(trio.tolerance).toBe(0);
    for (const d of trio.deltas) {
      expect(d.singularValues).toHaveLength(d.rank);
      expect(d.singularValues.every((s, i) => s > 0 && (i === 0 || s <= d.singularValues[i - 1]!))).toBe(true);
      for (const [m, n] of [[d.left, d.rows], [d.right, d.cols]] as const) {
        for (let a = 0; a < d.rank; a++) {
          for (let b = 0; b <= a; b++) expect(Math.abs(dot(column(m, n, a), column(m, n, b)) - (a === b ? 1 : 0))).toBeLessThan(1e-12);
        }
      }
      const stored = await storedDelta(d.tensor, d.phase);
      let worst = 0;
      for (let i = 0; i < d.rows; i++) {
        for (let j = 0; j < d.cols; j++) {
          let planted = 0;
          for (let k = 0; k < d.rank; k++) planted += d.left[k * d.rows + i]! * d.singularValues[k]! * d.right[k * d.cols + j]!;
          worst = Math.max(worst, Math.abs(stored[i * d.cols + j]! - planted));
        }
      }
      expect([d.tensor, d.phase, worst < 1e-9]).toEqual([d.tensor, d.phase, true]);
    }
  });

  it('every tensor without a planted delta is bitwise unchanged', async () => {
    const planted = new Set(trio.deltas.map((d) => `${d.phase} ${d.tensor}`));
    for (const name of ckpt.base.tensors.keys()) {
      for (const phase of ['sft', 'rl'] as const) {
        if (planted.has(`${phase} ${name}`)) continue;
        const d = await storedDelta(name, phase);
        expect([phase, name, d.every((v) => Object.is(v, 0))]).toEqual([phase, name, true]);
      }
    }
  });
});

describe('the planted story', () => {
  const byKey = () => new Map(trio.deltas.map((d) => [`${d.phase} ${d.tensor}`, d]));

  it('SFT touches every tensor; RL only projections and norms of middle and late decoder layers', () => {
    const sft = new Set(trio.deltas.filter((d) => d.phase === 'sft').map((d) => d.tensor));
    expect(sft.size).toBe(trio.base.size);
    const rl = trio.deltas.filter((d) => d.phase === 'rl').map((d) => d.tensor).sort();
    const expected: string[] = [];
    for (let j = 4; j < 12; j++) {
      for (const t of ['input_layernorm', 'post_attention_layernorm', 'mlp.down_proj', 'mlp.gate_proj', 'mlp.up_proj', 'self_attn.k_proj', 'self_attn.o_proj', 'self_attn.q_proj', 'self_attn.v_proj']) {
        expected.push(`model.layers.${j}.${t}.weight`);
      }
    }
    expect(rl).toEqual(expected.sort());
  });

  it('RL singular values in late layers are twice those of the same tensor kind in middle layers', () => {
    const m = byKey();
    for (const t of ['self_attn.q_proj', 'self_attn.k_proj', 'mlp.down_proj']) {
      const mid = m.get(`rl model.layers.5.${t}.weight`)!;
      const late = m.get(`rl model.layers.10.${t}.weight`)!;
      expect(mid.singularValues.map((s) => s / mid.singularValues[3]!)).toEqual([4, 3, 2, 1]);
      expect(late.singularValues.map((s, i) => s / mid.singularValues[i]!)).toEqual([2, 2, 2, 2]);
    }
  });

  it('plants one full-rank SFT delta (layer 1 o_proj) with spectrum 4,3,2,1 in quarters', () => {
    const full = trio.deltas.filter((d) => d.role === 'fullRank');
    expect(full.map((d) => [d.tensor, d.phase, d.rank])).toEqual([['model.layers.1.self_attn.o_proj.weight', 'sft', 64]]);
    const s = full[0]!.singularValues;
    expect(s.map((x) => x / s[63]!).map(Math.round)).toEqual([...Array(16).fill(4), ...Array(16).fill(3), ...Array(16).fill(2), ...Array(16).fill(1)]);
  });
});

/** Largest singular value of a stored delta by power iteration on D^T D (a second method, independent of the plant). */
function powerSpectral(d: Float64Array, rows: number, cols: number): number {
  let v = Float64Array.from({ length: cols }, (_, j) => 1 + ((j * 7919) % 13) / 13);
  let s = 0;
  for (let it = 0; it < 200; it++) {
    const u = new Float64Array(rows);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) u[i]! += d[i * cols + j]! * v[j]!;
    const w = new Float64Array(cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) w[j]! += d[i * cols + j]! * u[i]!;
    const norm = Math.sqrt(dot(w, w));
    s = Math.sqrt(norm);
    v = w.map((x) => x / norm);
  }
  return s;
}

describe('plantedExpectations: closed forms', () => {
  it('match the story by hand: rank-4 late RL delta and the full-rank SFT delta', () => {
    const e = plantedExpectations(trio);
    const late = e.delta('model.layers.10.mlp.gate_proj.weight', 'rl')!;
    const unit = late.singularValues[3]! / 2; // late coefficients are [8, 6, 4, 2] units
    expect(late.fro).toBeCloseTo(Math.sqrt(64 + 36 + 16 + 4) * unit, 12);
    expect(late.spectralNorm).toBeCloseTo(8 * unit, 12);
    expect(late.nuclearNorm).toBeCloseTo(20 * unit, 12);
    expect(late.stableRank).toBeCloseTo(120 / 64, 9);
    const p = [0.4, 0.3, 0.2, 0.1];
    expect(late.effectiveRank).toBeCloseTo(Math.exp(-p.reduce((a, x) => a + x * Math.log(x), 0)), 9);
    expect(late.conditionNumber).toBeNull();
    expect(late.logVolume(2)).toBeCloseTo(Math.log(8 * unit + 1e-12) + Math.log(6 * unit + 1e-12), 9);
    expect(() => late.logVolume(5)).toThrow(RangeError);

    const full = e.delta('model.layers.1.self_attn.o_proj.weight', 'sft')!;
    const fu = full.singularValues[63]!; // coefficient 1
    expect(full.conditionNumber).toBeCloseTo(4, 9);
    expect(full.stableRank).toBeCloseTo((16 * (16 + 9 + 4 + 1)) / 16, 9);
    expect(full.nuclearNorm).toBeCloseTo(16 * 10 * fu, 9);
    const h = Math.log(160) - (4 * Math.log(4) + 3 * Math.log(3) + 2 * Math.log(2)) / 10;
    expect(full.effectiveRank).toBeCloseTo(Math.exp(h), 9);
  });

  it('agree with the stored weights: Frobenius norm, relative change and a power-iteration spectral norm', async () => {
    const e = plantedExpectations(trio);
    for (const name of ['model.layers.10.mlp.gate_proj.weight', 'model.layers.1.self_attn.o_proj.weight', 'visual.patch_embed.proj.weight', 'model.embed_tokens.weight']) {
      for (const phase of ['sft', 'rl'] as const) {
        const x = e.delta(name, phase);
        if (!x) continue;
        const info = ckpt.base.tensors.get(name)!;
        const rows = info.shape[0]!;
        const cols = info.shape.slice(1).reduce((a, b) => a * b, 1);
        const d = await storedDelta(name, phase);
        expect(Math.sqrt(dot(d, d))).toBeCloseTo(x.fro, 9);
        const w = await ckpt.sft.readFloat32(name);
        expect(x.relative).toBeCloseTo(x.fro / (Math.sqrt(dot(w, w)) + 1e-8), 9);
        expect(Math.abs(powerSpectral(d, rows, cols) / x.spectralNorm - 1)).toBeLessThan(1e-6);
      }
    }
  });

  it('cosine and left-subspace overlap per role, checked against the stored weights', async () => {
    const e = plantedExpectations(trio);
    const roles = new Map(trio.deltas.filter((d) => d.phase === 'rl').map((d) => [d.tensor, d]));
    const sftOf = new Map(trio.deltas.filter((d) => d.phase === 'sft').map((d) => [d.tensor, d]));
    for (const layer of [5, 9]) {
      for (const proj of ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']) {
        const name = `model.layers.${layer}.${proj}.weight`;
        const rl = roles.get(name)!;
        const sft: PlantedDelta = sftOf.get(name)!;
        const pair = e.pair(name)!;
        const dS = await storedDelta(name, 'sft');
        const dR = await storedDelta(name, 'rl');
        const cosine = dot(dS, dR) / Math.sqrt(dot(dS, dS) * dot(dR, dR));
        expect(pair.cosine).toBeCloseTo(cosine, 9);
        expect(pair.cosine).toBeCloseTo(rl.role === 'shared' ? 11 / Math.sqrt(150) : 0, 9);
        const overlap = rl.role === 'orthogonal' ? 0 : 1;
        expect([name, pair.leftOverlap(1), pair.leftOverlap(2)].map((x) => (typeof x === 'number' ? Math.round(x * 1e9) / 1e9 : x))).toEqual([name, overlap, overlap]);
        // From the data: SFT's top left vectors are (aligned/shared) the top-2 left singular vectors of dRL, or in its left null space.
        for (let t = 0; t < 2; t++) {
          const got = normDtU(dR, rl.rows, rl.cols, column(sft.left, sft.rows, t));
          expect(got).toBeCloseTo(overlap * rl.singularValues[t]!, 9);
        }
      }
    }
    expect(() => e.pair('model.layers.5.self_attn.q_proj.weight')!.leftOverlap(3)).toThrow(RangeError);
  });
});
