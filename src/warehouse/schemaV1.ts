/**
 * Migration 1: checkpoints, tensors, runs and the characterization tables.
 * Frozen once released: change the schema with a new migration, never here.
 * No foreign keys: DuckDB rewrites some updates as delete + insert, which
 * trips foreign keys on the runs row every status change touches.
 */

const SECTION = "CHECK (section IN ('vision', 'projector', 'llm', 'other'))";
const COMPONENT = "CHECK (component IN ('attention', 'mlp', 'other'))";
const REGION = "CHECK (region IN ('early', 'middle', 'late'))";
const PHASE = "CHECK (phase IN ('sft', 'rl'))";
const METRICS = `
  fro_norm DOUBLE NOT NULL,
  relative_norm DOUBLE NOT NULL,
  spectral_norm DOUBLE NOT NULL,
  nuclear_norm DOUBLE NOT NULL,
  stable_rank DOUBLE NOT NULL,
  effective_rank DOUBLE NOT NULL,
  condition_number DOUBLE NOT NULL,
  log_volume DOUBLE NOT NULL,
  cosine DOUBLE,
  subspace_overlap DOUBLE`;

export const SCHEMA_V1: readonly string[] = [
  `CREATE TABLE checkpoints (
  id VARCHAR PRIMARY KEY,
  name VARCHAR NOT NULL,
  path VARCHAR NOT NULL,
  fingerprint VARCHAR NOT NULL,
  architecture VARCHAR NOT NULL,
  num_layers INTEGER NOT NULL,
  num_vision_layers INTEGER NOT NULL,
  parameter_count BIGINT NOT NULL,
  dtype VARCHAR NOT NULL,
  config JSON NOT NULL,
  registered_at TIMESTAMP NOT NULL)`,
  `CREATE TABLE tensors (
  checkpoint_fingerprint VARCHAR NOT NULL,
  name VARCHAR NOT NULL,
  dtype VARCHAR NOT NULL,
  shape INTEGER[] NOT NULL,
  layer_index INTEGER,
  section VARCHAR NOT NULL ${SECTION},
  component VARCHAR NOT NULL ${COMPONENT},
  PRIMARY KEY (checkpoint_fingerprint, name))`,
  `CREATE TABLE fingerprint_cache (
  file_key VARCHAR PRIMARY KEY,
  fingerprint VARCHAR NOT NULL)`,
  `CREATE TABLE runs (
  id VARCHAR PRIMARY KEY,
  kind VARCHAR NOT NULL,
  params JSON NOT NULL,
  inputs JSON NOT NULL,
  cache_key VARCHAR NOT NULL,
  status VARCHAR NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'DONE', 'FAILED')),
  progress DOUBLE NOT NULL CHECK (progress BETWEEN 0 AND 1),
  message VARCHAR,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP,
  engine_version VARCHAR NOT NULL,
  error VARCHAR)`,
  `CREATE TABLE tensor_stats (
  run_id VARCHAR NOT NULL,
  tensor_name VARCHAR NOT NULL,
  layer_index INTEGER,
  section VARCHAR NOT NULL ${SECTION},
  component VARCHAR NOT NULL ${COMPONENT},
  region VARCHAR ${REGION},
  shape INTEGER[] NOT NULL,
  phase VARCHAR NOT NULL ${PHASE},${METRICS},
  singular_values DOUBLE[] NOT NULL,
  PRIMARY KEY (run_id, tensor_name, phase))`,
  `CREATE TABLE layer_stats (
  run_id VARCHAR NOT NULL,
  layer_index INTEGER NOT NULL,
  section VARCHAR NOT NULL ${SECTION},
  region VARCHAR ${REGION},
  phase VARCHAR NOT NULL ${PHASE},
  n_tensors INTEGER NOT NULL CHECK (n_tensors > 0),
  fro_norm_sum DOUBLE NOT NULL,${METRICS},
  singular_values DOUBLE[] NOT NULL,
  PRIMARY KEY (run_id, layer_index, phase))`,
  `CREATE TABLE group_stats (
  run_id VARCHAR NOT NULL,
  grouping VARCHAR NOT NULL CHECK (grouping IN ('section', 'component', 'region')),
  group_key VARCHAR NOT NULL,
  phase VARCHAR NOT NULL ${PHASE},
  n_tensors INTEGER NOT NULL CHECK (n_tensors > 0),
  fro_norm_sum DOUBLE NOT NULL,${METRICS},
  singular_values DOUBLE[] NOT NULL,
  PRIMARY KEY (run_id, grouping, group_key, phase))`,
  `CREATE VIEW layer_profile AS
SELECT l.run_id, r.kind, r.params, r.inputs,
  CAST(json_extract_string(r.inputs, '$[*].id') AS VARCHAR[]) AS checkpoint_ids,
  r.finished_at,
  l.layer_index, l.section, l.region, l.phase, l.n_tensors, l.fro_norm_sum,
  l.fro_norm, l.relative_norm, l.spectral_norm, l.nuclear_norm, l.stable_rank,
  l.effective_rank, l.condition_number, l.log_volume, l.cosine, l.subspace_overlap,
  l.singular_values
FROM layer_stats l JOIN runs r ON r.id = l.run_id
WHERE r.status = 'DONE'`,
  // "the same question" = same params on the same checkpoint ids; a newer run
  // on edited checkpoint files (new fingerprints) replaces the older one.
  // params are canonical JSON text, so equal params compare equal as strings.
  `CREATE VIEW latest_characterization AS
WITH ranked AS (
  SELECT id, row_number() OVER (
    PARTITION BY CAST(params AS VARCHAR), CAST(json_extract_string(inputs, '$[*].id') AS VARCHAR)
    ORDER BY finished_at DESC, id DESC) AS rank
  FROM runs
  WHERE status = 'DONE' AND kind = 'characterization')
SELECT p.* FROM layer_profile p JOIN ranked ON ranked.id = p.run_id AND ranked.rank = 1`,
];
