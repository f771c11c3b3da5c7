/**
 * The whole boundary to DuckDB: the only file that imports `@duckdb/node-api`.
 * Everything else in the warehouse talks to the small interfaces below, in
 * plain JS values.
 */
import {
  DuckDBInstance,
  DuckDBTypeId,
  DOUBLE,
  INTEGER,
  LIST,
  VARCHAR,
  StatementType,
  arrayFromArrayValue,
  arrayFromListValue,
  dateFromTimestampValue,
  dateFromTimestampTZValue,
  doubleFromDecimalValue,
  jsonNumberFromValue,
  listValue,
  objectArrayFromMapValue,
  objectFromStructValue,
  objectFromUnionValue,
  stringFromValue,
  timestampValue,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBValueConverter,
} from '@duckdb/node-api';
import { WarehouseError, errorMessage } from './WarehouseError.js';

/** A value bound to a `?`/`$name` placeholder. Arrays bind as lists. */
export type SqlParam = string | number | boolean | null | Date | readonly string[] | readonly number[];
export type SqlParams = readonly SqlParam[] | Readonly<Record<string, SqlParam>>;
/** A value read back: BIGINT is a number when safe (else a string), TIMESTAMP a Date (ISO string in door results). */
export type PlainValue = string | number | boolean | null | Date | PlainValue[] | { [key: string]: PlainValue };
export type PlainRow = Record<string, PlainValue>;

/** Column kinds the appender writes; JSON takes a string. */
export type ColumnKind = 'VARCHAR' | 'JSON' | 'INTEGER' | 'DOUBLE' | 'BOOLEAN' | 'INTEGER[]' | 'DOUBLE[]' | 'VARCHAR[]';
export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
}

/** Door results before any policy: column names/types and JSON-safe rows. */
export interface StreamedRows {
  columns: { name: string; type: string }[];
  rows: PlainValue[][];
  truncated: boolean;
}

/** One DuckDB connection. Calls on one connection run one after another. */
export interface DbConnection {
  /** runs one statement; resolves to the number of rows it changed */
  run(sql: string, params?: SqlParams): Promise<number>;
  /** runs one statement and reads all its rows as objects keyed by column name */
  all(sql: string, params?: SqlParams): Promise<PlainRow[]>;
  /** appends rows with an appender; columns must be the table's columns, in order */
  append(table: string, columns: readonly ColumnSpec[], rows: readonly (readonly unknown[])[]): Promise<void>;
  /** parses only: the type of each statement ('SELECT', 'EXPLAIN', 'INSERT', ...) */
  statementTypes(sql: string): Promise<string[]>;
  /** runs a query, streaming chunks until maxRows + 1 rows are seen; values JSON-safe */
  streamRows(sql: string, maxRows: number): Promise<StreamedRows>;
  /**
   * streams the rows of `sql` into `table` of `target` (another database may hold it), chunk by chunk with
   * their types unchanged; the table's columns must be the query's, in order. Resolves to the rows copied.
   * Only this connection's calls are kept in order: `target` must be one nobody else uses meanwhile.
   */
  copyRowsInto(sql: string, params: SqlParams | undefined, target: DbConnection, table: string): Promise<number>;
  /** asks DuckDB to stop the query running on this connection */
  interrupt(): void;
  closeSync(): void;
}

/** An open database; `connect` gives connections that count their statements into `onStatement`. */
export interface DbInstance {
  connect(onStatement: () => void): Promise<DbConnection>;
  closeSync(): void;
}

/**
 * Opens a database file (or ':memory:') with bounded memory and spill space
 * (a door query's cross join materialises one side; without a bound it could
 * take the server's memory before its time limit hits), file system access and extension
 * loading switched off for the instance's whole life: the warehouse needs no
 * files but its own, and the SQL door then cannot reach any even if a
 * statement slipped through its checks. The configuration is locked so no
 * statement can switch it back on.
 */
export async function openDatabase(
  path: string,
  options: { readOnly: boolean; memoryLimit?: string; maxTempDirectorySize?: string },
): Promise<DbInstance> {
  const config: Record<string, string> = {
    memory_limit: options.memoryLimit ?? '2GB',
    // One thread: every statement then runs on the libuv thread that
    // submitted it and nowhere else, so the SQL door's slots bound the CPUs
    // door queries take (SqlDoor.ts); the warehouse's tables are small.
    threads: '1',
    max_temp_directory_size: options.maxTempDirectorySize ?? '8GB',
    enable_external_access: 'false',
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
    allow_community_extensions: 'false',
    lock_configuration: 'true',
  };
  if (options.readOnly) config.access_mode = 'READ_ONLY';
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, config);
  } catch (error) {
    const message = errorMessage(error);
    const holder = /Conflicting lock is held in (.*?)(?:\. See also|$)/.exec(message)?.[1];
    if (/Could not set lock on file/.test(message)) {
      throw new WarehouseError(
        'WAREHOUSE_LOCKED',
        `warehouse '${path}' is in use by another process${holder ? ` (${holder})` : ''}; ` +
          'stop it, or query through its SQL door instead of opening the file',
        { cause: error },
      );
    }
    throw new WarehouseError('WAREHOUSE_OPEN_FAILED', `cannot open warehouse '${path}': ${message}`, { cause: error });
  }
  return {
    connect: async (onStatement) => wrapConnection(await instance.connect(), onStatement),
    closeSync: () => instance.closeSync(),
  };
}

/**
 * An in-memory database that may write files: the Parquet lake's writer. It
 * runs only statements the lake builds from its own table names and paths,
 * never an analyst's SQL, so file access is on here and nowhere else;
 * extension loading stays off and the configuration locked.
 */
export async function openFileWriter(): Promise<DbInstance> {
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: '1GB',
    threads: '1',
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
    allow_community_extensions: 'false',
    lock_configuration: 'true',
  });
  return {
    connect: async (onStatement) => wrapConnection(await instance.connect(), onStatement),
    closeSync: () => instance.closeSync(),
  };
}

/** The DuckDB connection behind each wrapper, for copies between databases. */
const rawConnections = new WeakMap<DbConnection, DuckDBConnection>();

function wrapConnection(connection: DuckDBConnection, onStatement: () => void): DbConnection {
  let tail: Promise<unknown> = Promise.resolve();
  // DuckDB runs one statement per connection at a time; chaining keeps
  // concurrent callers from interleaving inside each other's work.
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = tail.then(work, work);
    tail = next.catch(() => undefined);
    return next;
  };
  const wrapped: DbConnection = {
    run: (sql, params) =>
      serial(async () => {
        onStatement();
        const result = await connection.run(sql, toDuckParams(params));
        return result.rowsChanged;
      }),
    all: (sql, params) =>
      serial(async () => {
        onStatement();
        const reader = await connection.runAndReadAll(sql, toDuckParams(params));
        return reader.convertRowObjects(plainConverter) as PlainRow[];
      }),
    append: (table, columns, rows) => serial(() => appendRows(connection, table, columns, rows)),
    statementTypes: (sql) =>
      serial(async () => {
        const extracted = await connection.extractStatements(sql);
        const types: string[] = [];
        for (let i = 0; i < extracted.count; i++) {
          const prepared = await extracted.prepare(i);
          types.push(StatementType[prepared.statementType] ?? String(prepared.statementType));
          prepared.destroySync();
        }
        return types;
      }),
    streamRows: (sql, maxRows) =>
      serial(async () => {
        onStatement();
        const result = await connection.stream(sql);
        const columns = result.columnNames().map((name, i) => ({ name, type: result.columnType(i).toString() }));
        const rows: PlainValue[][] = [];
        for (;;) {
          const chunk = await result.fetchChunk();
          if (!chunk || chunk.rowCount === 0) break;
          for (const row of chunk.convertRows(jsonSafeConverter)) {
            if (rows.length === maxRows) return { columns, rows, truncated: true };
            rows.push(row as PlainValue[]);
          }
        }
        return { columns, rows, truncated: false };
      }),
    copyRowsInto: (sql, params, target, table) =>
      serial(async () => {
        onStatement();
        const into = rawConnections.get(target);
        if (!into) throw new TypeError("copyRowsInto: 'target' is not a connection of this binding");
        const result = await connection.stream(sql, toDuckParams(params));
        const appender = await into.createAppender(table);
        let rows = 0;
        try {
          for (;;) {
            const chunk = await result.fetchChunk();
            if (!chunk || chunk.rowCount === 0) break;
            appender.appendDataChunk(chunk);
            rows += chunk.rowCount;
          }
        } finally {
          appender.closeSync();
        }
        return rows;
      }),
    interrupt: () => connection.interrupt(),
    closeSync: () => connection.closeSync(),
  };
  rawConnections.set(wrapped, connection);
  return wrapped;
}

function toDuckParams(params: SqlParams | undefined): DuckDBValue[] | Record<string, DuckDBValue> | undefined {
  if (params === undefined) return undefined;
  if (Array.isArray(params)) return (params as readonly SqlParam[]).map(toDuckValue);
  const out: Record<string, DuckDBValue> = {};
  for (const [key, value] of Object.entries(params)) out[key] = toDuckValue(value as SqlParam);
  return out;
}

function toDuckValue(value: SqlParam): DuckDBValue {
  if (value instanceof Date) return timestampValue(BigInt(value.getTime()) * 1000n);
  if (Array.isArray(value)) return listValue(value as DuckDBValue[]);
  return value as DuckDBValue;
}

const LIST_DOUBLE = LIST(DOUBLE);
const LIST_INTEGER = LIST(INTEGER);
const LIST_VARCHAR = LIST(VARCHAR);

async function appendRows(
  connection: DuckDBConnection,
  table: string,
  columns: readonly ColumnSpec[],
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  const appender = await connection.createAppender(table);
  let closed = false;
  try {
    if (appender.columnCount !== columns.length) {
      throw new Error(`appender for '${table}' has ${appender.columnCount} columns, the spec ${columns.length}`);
    }
    for (const row of rows) {
      for (let c = 0; c < columns.length; c++) appendOne(appender, columns[c]!, row[c]);
      appender.endRow();
    }
    // Closing flushes; constraint violations surface here.
    closed = true;
    appender.closeSync();
  } finally {
    if (!closed) {
      try {
        // drop the rows appended so far rather than flush them
        appender.clear();
        appender.closeSync();
      } catch {
        // the first error is the one worth reporting
      }
    }
  }
}

function appendOne(appender: DuckDBAppender, column: ColumnSpec, value: unknown): void {
  if (value === null || value === undefined) return appender.appendNull();
  switch (column.kind) {
    case 'VARCHAR':
    case 'JSON':
      if (typeof value !== 'string') throw new TypeError(`column '${column.name}' needs a string, got ${typeof value}`);
      return appender.appendVarchar(value);
    case 'INTEGER':
      if (!Number.isInteger(value)) throw new TypeError(`column '${column.name}' needs an integer, got ${String(value)}`);
      return appender.appendInteger(value as number);
    case 'DOUBLE':
      if (typeof value !== 'number') throw new TypeError(`column '${column.name}' needs a number, got ${typeof value}`);
      return appender.appendDouble(value);
    case 'BOOLEAN':
      if (typeof value !== 'boolean') throw new TypeError(`column '${column.name}' needs a boolean, got ${typeof value}`);
      return appender.appendBoolean(value);
    case 'INTEGER[]':
      return appender.appendList(value as number[], LIST_INTEGER);
    case 'VARCHAR[]':
      return appender.appendList(value as string[], LIST_VARCHAR);
    case 'DOUBLE[]':
      return appender.appendList(value as number[], LIST_DOUBLE);
  }
}

function safeInteger(value: DuckDBValue): number | string {
  const big = value as bigint;
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : String(big);
}

function makeConverter(timestamps: 'date' | 'iso'): DuckDBValueConverter<PlainValue> {
  const stamp = (date: Date, value: DuckDBValue): PlainValue =>
    Number.isNaN(date.getTime()) ? String(value) : timestamps === 'iso' ? date.toISOString() : date;
  const convert: DuckDBValueConverter<PlainValue> = (value, type: DuckDBType, self) => {
    if (value === null) return null;
    switch (type.typeId) {
      case DuckDBTypeId.BOOLEAN:
        return value as boolean;
      case DuckDBTypeId.TINYINT:
      case DuckDBTypeId.SMALLINT:
      case DuckDBTypeId.INTEGER:
      case DuckDBTypeId.UTINYINT:
      case DuckDBTypeId.USMALLINT:
      case DuckDBTypeId.UINTEGER:
        return value as number;
      case DuckDBTypeId.FLOAT:
      case DuckDBTypeId.DOUBLE:
        // JSON has no NaN/Infinity: the door gets them as strings
        return timestamps === 'iso' ? jsonNumberFromValue(value) : (value as number);
      case DuckDBTypeId.BIGINT:
      case DuckDBTypeId.UBIGINT:
      case DuckDBTypeId.HUGEINT:
      case DuckDBTypeId.UHUGEINT:
      case DuckDBTypeId.BIGNUM:
        return safeInteger(value);
      case DuckDBTypeId.DECIMAL:
        return doubleFromDecimalValue(value);
      case DuckDBTypeId.TIMESTAMP:
        return stamp(dateFromTimestampValue(value), value);
      case DuckDBTypeId.TIMESTAMP_TZ:
        return stamp(dateFromTimestampTZValue(value), value);
      case DuckDBTypeId.LIST:
        return arrayFromListValue(value, type, self);
      case DuckDBTypeId.ARRAY:
        return arrayFromArrayValue(value, type, self);
      case DuckDBTypeId.STRUCT:
        return objectFromStructValue(value, type, self);
      case DuckDBTypeId.MAP:
        return objectArrayFromMapValue(value, type, self) as PlainValue;
      case DuckDBTypeId.UNION:
        return objectFromUnionValue(value, type, self) as PlainValue;
      default:
        // VARCHAR, JSON, UUID, ENUM, DATE, TIME, INTERVAL, BLOB, ...: their SQL text
        return stringFromValue(value);
    }
  };
  return convert;
}

const plainConverter = makeConverter('date');
const jsonSafeConverter = makeConverter('iso');

