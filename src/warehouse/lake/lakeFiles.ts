import type { DbConnection } from '../duckdbBinding.js';
import { quoteIdentifier } from '../quoteIdentifier.js';
import { REFERENCE_TABLES, RUN_RESULT_TABLES, RUNS_TABLE } from './lakeTables.js';
import { referenceFile, runFile, runRowFile } from './lakePaths.js';
import type { ParquetCopier } from './ParquetCopier.js';

/** A run as the lake files it: its id and its kind (the partition). */
export interface LakeRun {
  id: string;
  kind: string;
}

/**
 * Writes one run's files under `root`: its rows of every result table, then
 * its `runs` row last, so a run listed in `runs/` has all its files.
 * Resolves to the number of files written.
 */
export async function writeRunFiles(copier: ParquetCopier, source: DbConnection, root: string, run: LakeRun): Promise<number> {
  let files = 0;
  for (const table of [...RUN_RESULT_TABLES, RUNS_TABLE]) {
    const key = table === RUNS_TABLE ? 'id' : 'run_id';
    // unsorted: DuckDB 1.5's ORDER BY turns -0.0 into 0.0 (duckdb/duckdb#25417)
    const query = `SELECT * FROM ${quoteIdentifier(table)} WHERE ${quoteIdentifier(key)} = ?`;
    const file = table === RUNS_TABLE ? runRowFile(root, run.id) : runFile(root, table, run.kind, run.id);
    if ((await copier.write(source, table, query, [run.id], file)) > 0) files++;
  }
  return files;
}

/**
 * Writes every reference table whole under `root`, each file replaced
 * atomically, from one snapshot of the warehouse (callers read inside a
 * transaction). Resolves to the number of files written.
 */
export async function writeReferenceFiles(copier: ParquetCopier, source: DbConnection, root: string): Promise<number> {
  let files = 0;
  for (const table of REFERENCE_TABLES) {
    const query = `SELECT * FROM ${quoteIdentifier(table)}`;
    if ((await copier.write(source, table, query, undefined, referenceFile(root, table))) > 0) files++;
  }
  return files;
}
