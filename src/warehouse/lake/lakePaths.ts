import { join } from 'node:path';

/** A run id as a file name: the warehouse's ids are UUIDs; anything else could leave the lake folder. */
function runFileName(runId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(runId)) throw new RangeError(`lake: run id '${runId}' cannot be a file name`);
  return `${runId}.parquet`;
}

/** The Hive-style partition folder of a run kind (readers get the value back as the column `kind`). */
export function kindPartition(kind: string): string {
  if (kind.length === 0) throw new RangeError("lake: run 'kind' is empty");
  return `kind=${encodeURIComponent(kind)}`;
}

/** `<root>/<table>/kind=<kind>/<run id>.parquet` */
export function runFile(root: string, table: string, kind: string, runId: string): string {
  return join(root, table, kindPartition(kind), runFileName(runId));
}

/**
 * `<root>/runs/<run id>.parquet`: not partitioned, since the row carries
 * `kind` itself and Spark refuses a partition column that is also a data column.
 */
export function runRowFile(root: string, runId: string): string {
  return join(root, 'runs', runFileName(runId));
}

/** `<root>/<table>/<table>.parquet` */
export function referenceFile(root: string, table: string): string {
  return join(root, table, `${table}.parquet`);
}
