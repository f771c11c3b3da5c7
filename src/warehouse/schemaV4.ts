/**
 * Migration 4: probe sets may be in the GSM8K or MATH-500 format
 * (`format` 'gsm8k', 'math500'). Frozen once released.
 *
 * DuckDB can neither drop nor alter a CHECK constraint (nor change the type
 * of a column that has one), so `probe_sets` is rebuilt with the wider check
 * and every row copied; the columns, their order and the other constraints
 * are those of migrations 2 and 3. No view or foreign key refers to the
 * table, and the migration runs in one transaction, so a failure leaves
 * version 3 as it was.
 */
export const SCHEMA_V4: readonly string[] = [
  `CREATE TABLE probe_sets_v4 (
  id VARCHAR PRIMARY KEY,
  name VARCHAR NOT NULL,
  format VARCHAR NOT NULL CHECK (format IN ('reference', 'jsonl', 'gsm8k', 'math500')),
  root VARCHAR NOT NULL,
  fingerprint VARCHAR NOT NULL,
  n_examples INTEGER NOT NULL CHECK (n_examples > 0),
  registered_at TIMESTAMP NOT NULL,
  skipped_examples JSON NOT NULL DEFAULT '[]')`,
  `INSERT INTO probe_sets_v4 SELECT id, name, format, root, fingerprint, n_examples, registered_at, skipped_examples FROM probe_sets`,
  `DROP TABLE probe_sets`,
  `ALTER TABLE probe_sets_v4 RENAME TO probe_sets`,
];
