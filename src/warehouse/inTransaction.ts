import type { DbConnection } from './duckdbBinding.js';

/**
 * Runs `work` between BEGIN and COMMIT on `connection`, rolling back if it
 * throws. The connection should be one nobody else uses meanwhile: every
 * statement sent on it joins the transaction.
 */
export async function inTransaction<T>(connection: DbConnection, work: () => Promise<T>): Promise<T> {
  await connection.run('BEGIN TRANSACTION');
  let result: T;
  try {
    result = await work();
  } catch (error) {
    try {
      await connection.run('ROLLBACK');
    } catch {
      // DuckDB may already have ended an aborted transaction; the original error matters
    }
    throw error;
  }
  await connection.run('COMMIT');
  return result;
}
