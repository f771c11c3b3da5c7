/**
 * Migration 5: staged work units. A run cut into units stores each finished
 * unit's result here (encodeUnitResult bytes) as it arrives, so a run
 * interrupted by a server restart or a cancel resumes from what was already
 * computed. The rows of a run are deleted in the transaction that marks it
 * DONE: its final rows hold the result from then on and a DONE run is never
 * resumed, so keeping them would only double the file. Frozen once released.
 *
 * `runs.request` holds the service call that started a run (service,
 * method, JSON arguments), so a server with a queue can replay it at start
 * and resume the run by itself; NULL for runs started before.
 *
 * No foreign key to `runs`: DuckDB refuses updates of a row that a foreign
 * key refers to, and runs change status.
 */
export const SCHEMA_V5: readonly string[] = [
  `CREATE TABLE run_units (
  run_id VARCHAR NOT NULL,
  unit_index INTEGER NOT NULL CHECK (unit_index >= 0),
  label VARCHAR NOT NULL,
  worker VARCHAR NOT NULL,
  result BLOB NOT NULL,
  staged_at TIMESTAMP NOT NULL,
  PRIMARY KEY (run_id, unit_index))`,
  `ALTER TABLE runs ADD COLUMN request JSON`,
];
