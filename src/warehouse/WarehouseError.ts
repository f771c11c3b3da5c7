/** What went wrong in the warehouse, as a stable machine-readable code. */
export type WarehouseErrorCode =
  /** the SQL door refused a statement before running it (not a read, or touches files/settings) */
  | 'SQL_REFUSED'
  /** the SQL door interrupted a query that ran past its time limit */
  | 'SQL_TIMEOUT'
  /** DuckDB rejected a door query (syntax, unknown column, ...) */
  | 'SQL_ERROR'
  /** another process holds the database file */
  | 'WAREHOUSE_LOCKED'
  /** the database file could not be opened for another reason */
  | 'WAREHOUSE_OPEN_FAILED'
  /** the file's schema version differs from the one this code knows (read-only open, or a newer file) */
  | 'SCHEMA_MISMATCH'
  /** a run id that does not exist, or is not in the state the operation needs */
  | 'RUN_NOT_FOUND'
  /** a run's result (then the run is FAILED) or a probe set could not be stored; nothing of it was kept */
  | 'WRITE_FAILED'
  /** a write was attempted on a warehouse opened read-only */
  | 'READ_ONLY';

/** The one error class of the warehouse; `code` says which contract was broken. */
export class WarehouseError extends Error {
  override readonly name = 'WarehouseError';

  constructor(
    readonly code: WarehouseErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The message of anything thrown, for storing and wrapping. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
