/**
 * Shared helpers of the warehouse and SQL door tests: warehouses that are
 * always closed, and small characterization results with known values.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Warehouse, type WarehouseOptions } from '../../src/warehouse/index.js';
import type { CharacterizationRows, Phase, RunRow } from '../../src/warehouse/index.js';

/** Runs `body` with an open in-memory warehouse, closing it whatever happens. */
export async function withWarehouse<T>(body: (warehouse: Warehouse) => Promise<T>, options?: WarehouseOptions): Promise<T> {
  const warehouse = await Warehouse.open(':memory:', options);
  try {
    return await body(warehouse);
  } finally {
    warehouse.closeSync();
  }
}

/** Runs `body` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'frankenscope-wh-'));
  try {
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens a file warehouse, runs `body`, closes it. */
export async function withFileWarehouse<T>(path: string, body: (warehouse: Warehouse) => Promise<T>, options?: WarehouseOptions): Promise<T> {
  const warehouse = await Warehouse.open(path, options);
  try {
    return await body(warehouse);
  } finally {
    warehouse.closeSync();
  }
}

const METRICS = {
  relativeNorm: 0.1,
  spectralNorm: 0.5,
  nuclearNorm: 2,
  stableRank: 1.5,
  effectiveRank: 3,
  conditionNumber: 10,
  logVolume: -4,
  subspaceOverlap: 0.25,
};

/**
 * A result with `layers` LLM layers (index 1..layers), two tensors each
 * (attention, mlp) and both phases. Tensor fro norms are `seed + layer + t/10`
 * (sft) and twice that (rl), so layer means and sums are known in closed form.
 */
export function makeResult(layers: number, seed = 0): CharacterizationRows {
  const tensors: CharacterizationRows['tensors'][number][] = [];
  const layerRows: CharacterizationRows['layers'][number][] = [];
  for (let layer = 1; layer <= layers; layer++) {
    for (const phase of ['sft', 'rl'] as Phase[]) {
      const scale = phase === 'sft' ? 1 : 2;
      const fros = [0, 1].map((t) => scale * (seed + layer + t / 10));
      fros.forEach((fro, t) =>
        tensors.push({
          tensorName: `model.layers.${layer - 1}.${t === 0 ? 'self_attn.q_proj' : 'mlp.up_proj'}.weight`,
          layerIndex: layer,
          section: 'llm',
          component: t === 0 ? 'attention' : 'mlp',
          region: 'early',
          shape: [4, 8],
          phase,
          froNorm: fro,
          singularValues: [fro, fro / 2],
          cosine: 0.5,
          ...METRICS,
        }),
      );
      layerRows.push({
        layerIndex: layer,
        section: 'llm',
        region: 'early',
        phase,
        nTensors: 2,
        froNormSum: fros[0]! + fros[1]!,
        froNorm: (fros[0]! + fros[1]!) / 2,
        singularValues: [(fros[0]! + fros[1]!) / 2, (fros[0]! + fros[1]!) / 4],
        cosine: 0.5,
        ...METRICS,
      });
    }
  }
  const groups: CharacterizationRows['groups'][number][] = (['sft', 'rl'] as Phase[]).map((phase) => ({
    grouping: 'section',
    groupKey: 'llm',
    phase,
    nTensors: 2 * layers,
    froNormSum: 1,
    froNorm: 1,
    singularValues: [1],
    cosine: 0.5,
    ...METRICS,
  }));
  return { tensors, layers: layerRows, groups };
}

/** Inputs shaped as the characterization service writes them. */
export function trioInputs(ids: [string, string, string] = ['demo/base', 'demo/sft', 'demo/rl']): unknown {
  return (['base', 'sft', 'rl'] as const).map((role, i) => ({ role, id: ids[i], fingerprint: `fp-${ids[i]}` }));
}

/** Creates a characterization run for `params` (on the demo trio unless `inputs` says otherwise) and completes it. */
export async function storedRun(warehouse: Warehouse, params: unknown, result: CharacterizationRows, inputs = trioInputs()): Promise<RunRow> {
  const run = await warehouse.createRun({
    kind: 'characterization',
    params,
    cacheKey: `key-${JSON.stringify([params, inputs])}`,
    engineVersion: 'test',
    inputs,
  });
  await warehouse.completeRun(run.id, result);
  return run;
}

/** Row counts of the result tables, to prove something changed nothing. */
export async function tableCounts(warehouse: Warehouse): Promise<Record<string, unknown>> {
  const answer = await warehouse.readOnlySql(
    `SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM tensor_stats) AS tensor_stats,
            (SELECT count(*) FROM layer_stats) AS layer_stats, (SELECT count(*) FROM group_stats) AS group_stats,
            (SELECT count(*) FROM checkpoints) AS checkpoints`,
  );
  return Object.fromEntries(answer.columns.map((c, i) => [c.name, answer.rows[0]![i]]));
}
