import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openFileWriter, type DbConnection, type DbInstance, type SqlParams } from '../duckdbBinding.js';
import { quoteIdentifier } from '../quoteIdentifier.js';

/** The name of the one table the writer database holds while it writes a file. */
const OUTBOX = 'outbox';

/** A SQL string literal; the only literal the lake builds is a file path it chose itself. */
function quoteLiteral(text: string): string {
  if (text.includes('\u0000')) throw new RangeError(`lake: path contains a NUL character`);
  return `'${text.replaceAll("'", "''")}'`;
}

/** Where a file is written before it is renamed into place: same folder (rename stays atomic), a name no `*.parquet` glob matches. */
export function tempFileFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Copies query results from a warehouse connection into Parquet files with
 * DuckDB's own `COPY ... (FORMAT parquet)`, run by a separate in-memory
 * database: the warehouse's database has file access switched off for good
 * (duckdbBinding.ts). Rows travel as DuckDB chunks, so every column keeps
 * the warehouse's type. Each file is written to a temp name and renamed, so
 * a reader never sees half a file. Release with `closeSync`.
 */
export class ParquetCopier {
  readonly #instance: DbInstance;
  readonly #connection: DbConnection;
  /** column definitions by table; the schema only changes by migration, before any copy */
  readonly #columns = new Map<string, string>();
  #inFlight: string | undefined;
  #closed = false;

  private constructor(instance: DbInstance, connection: DbConnection) {
    this.#instance = instance;
    this.#connection = connection;
  }

  static async create(): Promise<ParquetCopier> {
    const instance = await openFileWriter();
    try {
      return new ParquetCopier(instance, await instance.connect(() => undefined));
    } catch (error) {
      instance.closeSync();
      throw error;
    }
  }

  /**
   * Writes the rows `query` reads on `source` (the columns of warehouse table
   * `table`, in order) to `file`, replacing it atomically. Resolves to the
   * number of rows; with none, no file is written.
   */
  async write(source: DbConnection, table: string, query: string, params: SqlParams | undefined, file: string): Promise<number> {
    const columns = await this.#columnsOf(source, table);
    await this.#connection.run(`CREATE OR REPLACE TABLE ${OUTBOX} (${columns})`);
    try {
      const rows = await source.copyRowsInto(query, params, this.#connection, OUTBOX);
      if (rows === 0) return 0;
      mkdirSync(dirname(file), { recursive: true });
      const temp = tempFileFor(file);
      this.#inFlight = temp;
      try {
        // no dictionary encoding: DuckDB 1.5's dictionary collapses -0.0 and 0.0 of a float column (duckdb/duckdb#25781)
        await this.#connection.run(`COPY ${OUTBOX} TO ${quoteLiteral(temp)} (FORMAT parquet, DICTIONARY_SIZE_LIMIT 0)`);
        if (this.#closed) throw new Error('lake writer closed');
        renameSync(temp, file);
      } finally {
        this.#inFlight = undefined;
        rmSync(temp, { force: true });
      }
      return rows;
    } finally {
      if (!this.#closed) await this.#connection.run(`DROP TABLE IF EXISTS ${OUTBOX}`);
    }
  }

  async #columnsOf(source: DbConnection, table: string): Promise<string> {
    const known = this.#columns.get(table);
    if (known) return known;
    const rows = await source.all(
      `SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ? ORDER BY column_index`,
      [table],
    );
    if (rows.length === 0) throw new RangeError(`lake: the warehouse has no table '${table}'`);
    const definition = rows.map((row) => `${quoteIdentifier(String(row.column_name))} ${String(row.data_type)}`).join(', ');
    this.#columns.set(table, definition);
    return definition;
  }

  /** Stops a copy in progress (its temp file is removed, never renamed) and releases the database. */
  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connection.interrupt();
    this.#connection.closeSync();
    this.#instance.closeSync();
    if (this.#inFlight) rmSync(this.#inFlight, { force: true });
  }
}
