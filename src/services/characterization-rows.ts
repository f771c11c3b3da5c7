/** The engine's characterization result as warehouse rows (one per phase). */
import type { CharacterizationResult } from '../engine/characterize/characterize.js';
import type { AggregateUpdate } from '../engine/characterize/aggregate.js';
import type { UpdateStats } from '../engine/characterize/metrics.js';
import type { CharacterizationRows, DiffMetrics, Phase } from '../warehouse/index.js';

const PHASES: readonly Phase[] = ['sft', 'rl'];

function metrics(stats: UpdateStats, shared: { cosine: number | null; subspaceOverlap: number | null }): DiffMetrics & { singularValues: number[] } {
  return {
    froNorm: stats.froNorm,
    relativeNorm: stats.relativeNorm,
    spectralNorm: stats.spectralNorm,
    nuclearNorm: stats.nuclearNorm,
    stableRank: stats.stableRank,
    effectiveRank: stats.effectiveRank,
    conditionNumber: stats.conditionNumber,
    logVolume: stats.logVolume,
    singularValues: stats.singularValues,
    cosine: shared.cosine,
    subspaceOverlap: shared.subspaceOverlap,
  };
}

function aggregateRows(a: AggregateUpdate) {
  return PHASES.map((phase) => ({ phase, nTensors: a.tensorCount, froNormSum: a[phase].froNormSum, ...metrics(a[phase], a) }));
}

export function toCharacterizationRows(result: CharacterizationResult): CharacterizationRows {
  return {
    tensors: result.tensors.flatMap((t) =>
      PHASES.map((phase) => ({
        tensorName: t.name,
        layerIndex: t.layerIndex,
        section: t.section,
        component: t.component,
        region: t.region,
        shape: t.shape,
        phase,
        ...metrics(t[phase], t),
      })),
    ),
    layers: result.layers.flatMap((l) =>
      aggregateRows(l).map((row) => ({ layerIndex: l.index, section: l.section, region: l.region, ...row })),
    ),
    groups: result.groups.flatMap((g) => aggregateRows(g).map((row) => ({ grouping: g.grouping, groupKey: g.key, ...row }))),
  };
}
