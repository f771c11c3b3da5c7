/**
 * Column lists of the appended tables, in table order, each with how to
 * read its value from a row object. The order must match schemaV1 (a test
 * compares them with DESCRIBE).
 */
import type { ColumnKind, ColumnSpec } from './duckdbBinding.js';
import type { DiffMetrics, GroupStatRow, LayerStatRow, TensorRow, TensorStatRow } from './types.js';

/** A column plus the getter that takes its value from a row of type R. */
export interface Field<R> extends ColumnSpec {
  get(row: R): unknown;
}

/** A column spec with its getter. */
export function field<R>(name: string, kind: ColumnKind, get: (row: R) => unknown): Field<R> {
  return { name, kind, get };
}

/** TensorRow plus the fingerprint it belongs to. */
export type FingerprintedTensor = TensorRow & { checkpointFingerprint: string };

export const TENSOR_COLUMNS: readonly Field<FingerprintedTensor>[] = [
  field('checkpoint_fingerprint', 'VARCHAR', (r) => r.checkpointFingerprint),
  field('name', 'VARCHAR', (r) => r.name),
  field('dtype', 'VARCHAR', (r) => r.dtype),
  field('shape', 'INTEGER[]', (r) => r.shape),
  field('layer_index', 'INTEGER', (r) => r.layerIndex),
  field('section', 'VARCHAR', (r) => r.section),
  field('component', 'VARCHAR', (r) => r.component),
];

function metricFields<R extends DiffMetrics>(): Field<R>[] {
  return [
    field('fro_norm', 'DOUBLE', (r) => r.froNorm),
    field('relative_norm', 'DOUBLE', (r) => r.relativeNorm),
    field('spectral_norm', 'DOUBLE', (r) => r.spectralNorm),
    field('nuclear_norm', 'DOUBLE', (r) => r.nuclearNorm),
    field('stable_rank', 'DOUBLE', (r) => r.stableRank),
    field('effective_rank', 'DOUBLE', (r) => r.effectiveRank),
    field('condition_number', 'DOUBLE', (r) => r.conditionNumber),
    field('log_volume', 'DOUBLE', (r) => r.logVolume),
    field('cosine', 'DOUBLE', (r) => r.cosine),
    field('subspace_overlap', 'DOUBLE', (r) => r.subspaceOverlap),
  ];
}

export const TENSOR_STATS_COLUMNS: readonly Field<TensorStatRow>[] = [
  field('run_id', 'VARCHAR', (r) => r.runId),
  field('tensor_name', 'VARCHAR', (r) => r.tensorName),
  field('layer_index', 'INTEGER', (r) => r.layerIndex),
  field('section', 'VARCHAR', (r) => r.section),
  field('component', 'VARCHAR', (r) => r.component),
  field('region', 'VARCHAR', (r) => r.region),
  field('shape', 'INTEGER[]', (r) => r.shape),
  field('phase', 'VARCHAR', (r) => r.phase),
  ...metricFields<TensorStatRow>(),
  field('singular_values', 'DOUBLE[]', (r) => r.singularValues),
];

export const LAYER_STATS_COLUMNS: readonly Field<LayerStatRow>[] = [
  field('run_id', 'VARCHAR', (r) => r.runId),
  field('layer_index', 'INTEGER', (r) => r.layerIndex),
  field('section', 'VARCHAR', (r) => r.section),
  field('region', 'VARCHAR', (r) => r.region),
  field('phase', 'VARCHAR', (r) => r.phase),
  field('n_tensors', 'INTEGER', (r) => r.nTensors),
  field('fro_norm_sum', 'DOUBLE', (r) => r.froNormSum),
  ...metricFields<LayerStatRow>(),
  field('singular_values', 'DOUBLE[]', (r) => r.singularValues),
];

export const GROUP_STATS_COLUMNS: readonly Field<GroupStatRow>[] = [
  field('run_id', 'VARCHAR', (r) => r.runId),
  field('grouping', 'VARCHAR', (r) => r.grouping),
  field('group_key', 'VARCHAR', (r) => r.groupKey),
  field('phase', 'VARCHAR', (r) => r.phase),
  field('n_tensors', 'INTEGER', (r) => r.nTensors),
  field('fro_norm_sum', 'DOUBLE', (r) => r.froNormSum),
  ...metricFields<GroupStatRow>(),
  field('singular_values', 'DOUBLE[]', (r) => r.singularValues),
];

/** The rows as value arrays in column order, for the appender. */
export function toColumnArrays<R>(columns: readonly Field<R>[], rows: readonly R[]): unknown[][] {
  return rows.map((row) => columns.map((column) => column.get(row)));
}
