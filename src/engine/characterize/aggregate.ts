/**
 * Aggregation of per-tensor metrics into per-layer, per-section,
 * per-component and per-region rows: means over tensors, plus the sum of fro.
 */
import type { Component, Region, Section } from '../layout.js';
import type { UpdateStats } from './metrics.js';

/** One characterized tensor: where it sits, and both phases' metrics. */
export interface TensorUpdate {
  name: string;
  layerIndex: number | null;
  section: Section;
  component: Component;
  region: Region | null;
  shape: number[];
  sft: UpdateStats;
  rl: UpdateStats;
  cosine: number | null;
  subspaceOverlap: number | null;
}

/** Means over a group's tensors; `froNormSum` is the sum of their fro norms. */
export interface AggregateStats extends UpdateStats {
  froNormSum: number;
}

export interface AggregateUpdate {
  tensorCount: number;
  sft: AggregateStats;
  rl: AggregateStats;
  /** mean over tensors whose cosine is defined; null if none is */
  cosine: number | null;
  subspaceOverlap: number | null;
}

export interface LayerAggregate extends AggregateUpdate {
  index: number;
  section: Section;
  region: Region | null;
}

export interface GroupAggregate extends AggregateUpdate {
  grouping: 'section' | 'component' | 'region';
  key: string;
}

const SCALARS = [
  'froNorm', 'relativeNorm', 'spectralNorm', 'nuclearNorm', 'stableRank',
  'effectiveRank', 'conditionNumber', 'logVolume',
] as const;

function meanStats(all: readonly UpdateStats[]): AggregateStats {
  const out = { froNormSum: 0, singularValues: [] as number[] } as unknown as AggregateStats;
  for (const key of SCALARS) {
    let s = 0;
    for (const u of all) s += u[key];
    out[key] = all.length ? s / all.length : 0;
  }
  out.froNormSum = all.reduce((s, u) => s + u.froNorm, 0);
  // element-wise mean over the tensors that have a value at that rank
  const longest = Math.max(0, ...all.map((u) => u.singularValues.length));
  for (let i = 0; i < longest; i++) {
    let s = 0;
    let n = 0;
    for (const u of all) {
      if (i < u.singularValues.length) {
        s += u.singularValues[i]!;
        n++;
      }
    }
    out.singularValues.push(s / n);
  }
  return out;
}

function meanDefined(values: readonly (number | null)[]): number | null {
  const defined = values.filter((v): v is number => v !== null);
  return defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : null;
}

function aggregate(tensors: readonly TensorUpdate[]): AggregateUpdate {
  return {
    tensorCount: tensors.length,
    sft: meanStats(tensors.map((t) => t.sft)),
    rl: meanStats(tensors.map((t) => t.rl)),
    cosine: meanDefined(tensors.map((t) => t.cosine)),
    subspaceOverlap: meanDefined(tensors.map((t) => t.subspaceOverlap)),
  };
}

function groupBy<K>(tensors: readonly TensorUpdate[], key: (t: TensorUpdate) => K | null): Map<K, TensorUpdate[]> {
  const groups = new Map<K, TensorUpdate[]>();
  for (const t of tensors) {
    const k = key(t);
    if (k === null) continue;
    const list = groups.get(k);
    if (list) list.push(t);
    else groups.set(k, [t]);
  }
  return groups;
}

/** One row per unified layer index, ascending (tensors outside blocks are left out). */
export function aggregateLayers(tensors: readonly TensorUpdate[]): LayerAggregate[] {
  const groups = groupBy(tensors, (t) => t.layerIndex);
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([index, members]) => ({
      index,
      section: members[0]!.section,
      region: members[0]!.region,
      ...aggregate(members),
    }));
}

/** Rows per section, per component and per LLM region, in a stable order. */
export function aggregateGroups(tensors: readonly TensorUpdate[]): GroupAggregate[] {
  const out: GroupAggregate[] = [];
  const orders = {
    section: ['vision', 'projector', 'llm', 'other'],
    component: ['attention', 'mlp', 'other'],
    region: ['early', 'middle', 'late'],
  } as const;
  for (const grouping of ['section', 'component', 'region'] as const) {
    const groups = groupBy(tensors, (t) => t[grouping]);
    for (const key of orders[grouping]) {
      const members = groups.get(key as never);
      if (members) out.push({ grouping, key, ...aggregate(members) });
    }
  }
  return out;
}
