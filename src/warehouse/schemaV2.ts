/**
 * Migration 2: probe sets and their examples, and the long-form result
 * tables of the probing/transfer analyses. Frozen once released.
 *
 * A NULL layer cannot sit in a primary key, so "no layer" (a clean run, an
 * overall number) is stored as layer_index = -1000 (NO_LAYER_INDEX); the
 * store maps it to and from null and the view shows NULL.
 */

/** The layer_index stored for "no layer". Real unified indices are far above it (vision blocks are -V..-1). */
export const NO_LAYER_INDEX = -1000;

const SECTION = "CHECK (section IN ('vision', 'projector', 'llm', 'other'))";

export const SCHEMA_V2: readonly string[] = [
  `CREATE TABLE probe_sets (
  id VARCHAR PRIMARY KEY,
  name VARCHAR NOT NULL,
  format VARCHAR NOT NULL CHECK (format IN ('reference', 'jsonl')),
  root VARCHAR NOT NULL,
  fingerprint VARCHAR NOT NULL,
  n_examples INTEGER NOT NULL CHECK (n_examples > 0),
  registered_at TIMESTAMP NOT NULL)`,
  `CREATE TABLE examples (
  probe_set_fingerprint VARCHAR NOT NULL,
  example_id VARCHAR NOT NULL,
  task VARCHAR NOT NULL,
  split VARCHAR NOT NULL,
  prompt VARCHAR NOT NULL,
  images JSON NOT NULL,
  answers JSON NOT NULL,
  description VARCHAR,
  tags VARCHAR[] NOT NULL,
  meta JSON NOT NULL,
  PRIMARY KEY (probe_set_fingerprint, example_id))`,
  `CREATE TABLE layer_effects (
  run_id VARCHAR NOT NULL,
  layer_index INTEGER NOT NULL CHECK (layer_index >= ${NO_LAYER_INDEX}),
  section VARCHAR ${SECTION},
  task VARCHAR NOT NULL,
  metric VARCHAR NOT NULL,
  value DOUBLE,
  ci_low DOUBLE,
  ci_high DOUBLE,
  n INTEGER CHECK (n >= 0),
  extra JSON,
  PRIMARY KEY (run_id, layer_index, task, metric))`,
  `CREATE TABLE example_results (
  run_id VARCHAR NOT NULL,
  layer_index INTEGER NOT NULL CHECK (layer_index >= ${NO_LAYER_INDEX}),
  example_id VARCHAR NOT NULL,
  task VARCHAR NOT NULL,
  condition VARCHAR NOT NULL,
  answer VARCHAR,
  correct BOOLEAN,
  changed BOOLEAN,
  transferred BOOLEAN,
  score DOUBLE,
  extra JSON,
  PRIMARY KEY (run_id, layer_index, example_id, condition))`,
  `CREATE VIEW layer_effect_profile AS
SELECT e.run_id, r.kind, r.params, r.inputs, r.finished_at,
  nullif(e.layer_index, ${NO_LAYER_INDEX}) AS layer_index,
  e.section, e.task, e.metric, e.value, e.ci_low, e.ci_high, e.n, e.extra
FROM layer_effects e JOIN runs r ON r.id = e.run_id
WHERE r.status = 'DONE'`,
];
