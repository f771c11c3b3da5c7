/** Warehouse rows (one per phase) to the GraphQL characterization types. */
import type { GroupStatRow, LayerStatRow, TensorStatRow } from '../warehouse/index.js';
import type { Component, Region, Section } from '../schema/enums.js';
import type { GroupUpdate, LayerUpdate, TensorUpdate } from '../schema/characterization.type.js';
import type { UpdateStats } from '../schema/update-stats.type.js';

type StatsRow = Omit<UpdateStats, 'froNormSum'> & { froNormSum?: number | null };

function stats(row: StatsRow): UpdateStats {
  return {
    froNorm: row.froNorm,
    relativeNorm: row.relativeNorm,
    spectralNorm: row.spectralNorm,
    nuclearNorm: row.nuclearNorm,
    stableRank: row.stableRank,
    effectiveRank: row.effectiveRank,
    conditionNumber: row.conditionNumber,
    logVolume: row.logVolume,
    singularValues: row.singularValues,
    froNormSum: row.froNormSum ?? null,
  };
}

/** Pairs the 'sft' and 'rl' rows that share a key, in first-seen order. */
function pairByPhase<R extends { phase: string }>(rows: readonly R[], key: (r: R) => string): { sft: R; rl: R }[] {
  const pairs = new Map<string, { sft?: R; rl?: R }>();
  for (const row of rows) {
    const k = key(row);
    const pair = pairs.get(k) ?? {};
    pair[row.phase as 'sft' | 'rl'] = row;
    pairs.set(k, pair);
  }
  return [...pairs.values()].filter((p): p is { sft: R; rl: R } => !!p.sft && !!p.rl);
}

export function toLayerUpdates(rows: readonly LayerStatRow[]): LayerUpdate[] {
  return pairByPhase(rows, (r) => String(r.layerIndex))
    .map(({ sft, rl }) => ({
      index: sft.layerIndex,
      section: sft.section as Section,
      region: (sft.region ?? null) as Region | null,
      tensorCount: sft.nTensors,
      sft: stats(sft),
      rl: stats(rl),
      cosine: sft.cosine ?? null,
      subspaceOverlap: sft.subspaceOverlap ?? null,
    }))
    .sort((a, b) => a.index - b.index);
}

const GROUP_ORDER: Record<string, readonly string[]> = {
  section: ['vision', 'projector', 'llm', 'other'],
  component: ['attention', 'mlp', 'other'],
  region: ['early', 'middle', 'late'],
};

/** Group rows of one grouping, in network order (vision first, early first). */
export function toGroupUpdates(rows: readonly GroupStatRow[], grouping: 'section' | 'component' | 'region'): GroupUpdate[] {
  const order = GROUP_ORDER[grouping]!;
  const sorted = rows.filter((r) => r.grouping === grouping).sort((a, b) => order.indexOf(a.groupKey) - order.indexOf(b.groupKey));
  return pairByPhase(sorted, (r) => r.groupKey).map(({ sft, rl }) => ({
    key: sft.groupKey,
    tensorCount: sft.nTensors,
    sft: stats(sft),
    rl: stats(rl),
    cosine: sft.cosine ?? null,
    subspaceOverlap: sft.subspaceOverlap ?? null,
  }));
}

export function toTensorUpdates(rows: readonly TensorStatRow[]): TensorUpdate[] {
  return pairByPhase(rows, (r) => r.tensorName).map(({ sft, rl }) => ({
    name: sft.tensorName,
    index: sft.layerIndex ?? null,
    section: sft.section as Section,
    component: sft.component as Component,
    region: (sft.region ?? null) as Region | null,
    shape: sft.shape,
    sft: stats({ ...sft, froNormSum: null }),
    rl: stats({ ...rl, froNormSum: null }),
    cosine: sft.cosine ?? null,
    subspaceOverlap: sft.subspaceOverlap ?? null,
  }));
}
