/**
 * Migration 3: a probe set records the examples of its files that were left
 * out at registration (`skipInvalidExamples`: an image that is missing or
 * does not decode), so every answer about the set can say what it lacks.
 * Frozen once released.
 *
 * `skipped_examples` is a JSON array of {"id", "code", "reason"} sorted by
 * id, `[]` for a complete set (and for every set registered before this
 * migration, which could not skip). DuckDB cannot add a column with a
 * constraint, so NOT NULL is set in a second statement.
 */
export const SCHEMA_V3: readonly string[] = [
  `ALTER TABLE probe_sets ADD COLUMN skipped_examples JSON DEFAULT '[]'`,
  `ALTER TABLE probe_sets ALTER COLUMN skipped_examples SET NOT NULL`,
];
