/**
 * Which warehouse tables the Parquet lake holds, and how. Every base table of
 * the warehouse is in exactly one list (a test keeps it so), so a table a new
 * migration adds needs a decision here before it ships.
 */

/**
 * Result tables: one file per run, `<table>/kind=<run kind>/<run id>.parquet`,
 * with the run's rows (none: no file). A DONE run's rows never change, so
 * each is written once.
 */
export const RUN_RESULT_TABLES = ['tensor_stats', 'layer_stats', 'group_stats', 'layer_effects', 'example_results'] as const;

/** The run's own row, `runs/<run id>.parquet`; written after its results, so a run in `runs/` has all its files. */
export const RUNS_TABLE = 'runs';

/**
 * Reference tables: one file each, `<table>/<table>.parquet`, rewritten whole
 * (temp file + rename) so a reader sees the old file or the new one. Content
 * tables come before the tables naming their fingerprints, so a checkpoint
 * that shows has its tensors.
 */
export const REFERENCE_TABLES = ['tensors', 'examples', 'checkpoints', 'probe_sets'] as const;

/**
 * Bookkeeping of the server itself, of no use to a reader: left out of the
 * lake and the export. run_units holds a run's staged unit results as
 * opaque bytes until the run is DONE (then its final rows replace them).
 */
export const UNLAKED_TABLES = ['fingerprint_cache', 'schema_migrations', 'run_units'] as const;
