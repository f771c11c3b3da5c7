/**
 * Column lists of the migration-2 tables the appender writes, in table
 * order (a test compares them with DESCRIBE). Getters validate what the
 * column constraints cannot say in a useful message.
 */
import { canonicalJson } from './canonicalJson.js';
import { field, type Field } from './columnSpecs.js';
import { NO_LAYER_INDEX } from './schemaV2.js';
import type { ExampleResultRow, LayerEffectRow, NewProbeExample } from './types.js';

/** An example plus the probe-set fingerprint it belongs to. */
export type FingerprintedExample = NewProbeExample & { probeSetFingerprint: string };

/** JSON text of a value, SQL NULL for null/undefined. */
function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : canonicalJson(value);
}

/** null -> NO_LAYER_INDEX; anything else must be an integer above it. */
export function storedLayerIndex(layerIndex: number | null | undefined, table: string): number {
  if (layerIndex === null || layerIndex === undefined) return NO_LAYER_INDEX;
  if (!Number.isInteger(layerIndex) || layerIndex <= NO_LAYER_INDEX) {
    throw new RangeError(`${table}: 'layerIndex' must be null or an integer above ${NO_LAYER_INDEX}, got ${layerIndex}`);
  }
  return layerIndex;
}

/** NO_LAYER_INDEX -> null. */
export function readLayerIndex(stored: unknown): number | null {
  return stored === NO_LAYER_INDEX ? null : (stored as number);
}

export const EXAMPLE_COLUMNS: readonly Field<FingerprintedExample>[] = [
  field('probe_set_fingerprint', 'VARCHAR', (r) => r.probeSetFingerprint),
  field('example_id', 'VARCHAR', (r) => r.id),
  field('task', 'VARCHAR', (r) => r.task),
  field('split', 'VARCHAR', (r) => r.split),
  field('prompt', 'VARCHAR', (r) => r.prompt),
  field('images', 'JSON', (r) => canonicalJson(r.images)),
  field('answers', 'JSON', (r) => canonicalJson(r.answers)),
  field('description', 'VARCHAR', (r) => r.description),
  field('tags', 'VARCHAR[]', (r) => [...(r.tags ?? [])]),
  field('meta', 'JSON', (r) => canonicalJson(r.meta ?? {})),
];

export const LAYER_EFFECT_COLUMNS: readonly Field<LayerEffectRow>[] = [
  field('run_id', 'VARCHAR', (r) => r.runId),
  field('layer_index', 'INTEGER', (r) => storedLayerIndex(r.layerIndex, 'layer_effects')),
  field('section', 'VARCHAR', (r) => r.section),
  field('task', 'VARCHAR', (r) => r.task),
  field('metric', 'VARCHAR', (r) => r.metric),
  field('value', 'DOUBLE', (r) => r.value),
  field('ci_low', 'DOUBLE', (r) => r.ciLow),
  field('ci_high', 'DOUBLE', (r) => r.ciHigh),
  field('n', 'INTEGER', (r) => r.n),
  field('extra', 'JSON', (r) => jsonOrNull(r.extra)),
];

export const EXAMPLE_RESULT_COLUMNS: readonly Field<ExampleResultRow>[] = [
  field('run_id', 'VARCHAR', (r) => r.runId),
  field('layer_index', 'INTEGER', (r) => storedLayerIndex(r.layerIndex, 'example_results')),
  field('example_id', 'VARCHAR', (r) => r.exampleId),
  field('task', 'VARCHAR', (r) => r.task),
  field('condition', 'VARCHAR', (r) => r.condition),
  field('answer', 'VARCHAR', (r) => r.answer),
  field('correct', 'BOOLEAN', (r) => r.correct),
  field('changed', 'BOOLEAN', (r) => r.changed),
  field('transferred', 'BOOLEAN', (r) => r.transferred),
  field('score', 'DOUBLE', (r) => r.score),
  field('extra', 'JSON', (r) => jsonOrNull(r.extra)),
];
