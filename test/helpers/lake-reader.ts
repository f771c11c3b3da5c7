/**
 * An analyst's DuckDB: a separate in-memory instance of the test process
 * that reads the Parquet lake by glob, as docs/warehouse.md tells analysts,
 * and never opens the warehouse file.
 */
import { DuckDBInstance } from '@duckdb/node-api';

export interface LakeReader {
  /** all rows of one statement, as DuckDB's JS values */
  rows(sql: string): Promise<unknown[][]>;
}

export async function withLakeReader<T>(body: (reader: LakeReader) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return await body({ rows: async (sql) => (await connection.runAndReadAll(sql)).getRowsJS() as unknown[][] });
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** `SELECT *` of one lake table, without the partition column: the table as the warehouse has it. */
export const lakeTable = (root: string, table: string): string =>
  `SELECT * FROM read_parquet('${root}/${table}/**/*.parquet', hive_partitioning = false)`;

/** Each row of `select` as DuckDB's text of the whole row (every digit, JSON text, NaN), sorted: exact and readable in a diff. */
export const rowTexts = (select: string): string => `SELECT CAST(t AS VARCHAR) AS row_text FROM (${select}) t ORDER BY row_text`;

/** The column names and types of `select`, as DESCRIBE shows them. */
export const columnTypes = (select: string): string => `SELECT column_name, column_type FROM (DESCRIBE ${select})`;
