/**
 * What the SQL door lets through, as pure functions over text and over
 * DuckDB's own parse tree (json_serialize_sql output). The door applies
 * them in order; any one refusal stops the query before it runs.
 */
import { firstWords, splitStatements } from './sqlLexer.js';
import { WarehouseError } from './WarehouseError.js';

/** Words a read statement may start with (after comments and opening parentheses). */
const READ_STARTS = new Set(['SELECT', 'WITH', 'FROM', 'VALUES', 'TABLE', 'DESCRIBE', 'DESC', 'SHOW', 'SUMMARIZE', 'PIVOT', 'UNPIVOT']);

/**
 * Table functions a read may call. An allowlist: DuckDB's table functions
 * include file readers, globbing, settings switches (enable_logging) and
 * raw pointer scans (arrow_scan), and extensions add more.
 */
const TABLE_FUNCTIONS = new Set([
  'range',
  'generate_series',
  'unnest',
  'repeat',
  'repeat_row',
  'json_each',
  'json_tree',
  'summary',
  'histogram',
  'histogram_values',
  'pg_timezone_names',
  'icu_calendar_names',
  'duckdb_columns',
  'duckdb_constraints',
  'duckdb_databases',
  'duckdb_dependencies',
  'duckdb_functions',
  'duckdb_indexes',
  'duckdb_keywords',
  'duckdb_schemas',
  'duckdb_sequences',
  'duckdb_tables',
  'duckdb_types',
  'duckdb_views',
  'pragma_table_info',
  'pragma_show',
  'pragma_storage_info',
  'pragma_database_size',
  'pragma_version',
]);

/** Scalar functions that reach outside the query: the environment, session state, sequences, logs, nested SQL. */
const SCALAR_DENY = new Set([
  'getenv',
  'nextval',
  'setseed',
  'write_log',
  'json_execute_serialized_sql',
  'query',
  'query_table',
]);
const FILE_LIKE_FUNCTION = /^(read_|parquet_|sniff_|glob$|iceberg_|delta_)|_scan$/;
/** A table name DuckDB would treat as a file (replacement scan): a path, a glob, a URL or a file extension. */
const FILE_LIKE_TABLE = /[/\\*?:]|\.[A-Za-z0-9]+$/;

const MAX_SQL_LENGTH = 100_000;

/** The statement the door will analyse, and whether the user's text wraps it in EXPLAIN. */
export interface ReadStatement {
  explain: boolean;
  /** the read itself: the whole text, or what follows EXPLAIN */
  target: string;
}

function refuse(message: string): never {
  throw new WarehouseError('SQL_REFUSED', message);
}

/** Text-level checks: one statement, starting with a read keyword; EXPLAIN only of a read, never ANALYZE. */
export function checkStatementText(sql: string): ReadStatement {
  if (sql.length > MAX_SQL_LENGTH) refuse(`query is ${sql.length} characters; the limit is ${MAX_SQL_LENGTH}`);
  const statements = splitStatements(sql);
  if (statements.length === 0) refuse('query is empty');
  if (statements.length > 1) refuse(`exactly one statement is allowed, found ${statements.length}`);
  const statement = statements[0]!;
  const [first, second] = firstWords(statement, 2);
  if (!first) refuse('query does not start with a keyword');
  if (first.word !== 'EXPLAIN') {
    if (!READ_STARTS.has(first.word)) refuse(`'${first.word}' statements are not allowed; only reads (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)`);
    return { explain: false, target: statement };
  }
  if (second && (second.word === 'ANALYZE' || second.word === 'ANALYSE')) refuse('EXPLAIN ANALYZE is not allowed: it executes the statement');
  const target = statement.slice(first.end);
  const [inner] = firstWords(target, 1);
  if (!inner || !READ_STARTS.has(inner.word)) refuse(`EXPLAIN is only allowed of a read, not of '${inner?.word ?? target.trim()}'`);
  return { explain: true, target };
}

/** Checks DuckDB's statement types for the text: exactly one, SELECT (or EXPLAIN when wrapped). */
export function checkStatementTypes(types: readonly string[], expected: 'SELECT' | 'EXPLAIN'): void {
  if (types.length !== 1) refuse(`exactly one statement is allowed, DuckDB found ${types.length}`);
  if (types[0] !== expected) refuse(`${types[0]} statements are not allowed; only reads`);
}

/** True when json_serialize_sql could not serialize because the statement is not a SELECT. */
export function isNotSelectTree(serialized: string): boolean {
  const tree = JSON.parse(serialized) as { error?: boolean; error_message?: string };
  return tree.error === true && /Only SELECT statements/i.test(tree.error_message ?? '');
}

/**
 * Walks the parse tree of a read (json_serialize_sql output) and refuses
 * table functions outside the allowlist, denied scalar functions and table
 * names that DuckDB would open as files.
 */
export function checkParseTree(serialized: string): void {
  const tree = JSON.parse(serialized) as { error?: boolean; error_message?: string; statements?: unknown[] };
  if (tree.error) refuse(`query cannot be analysed: ${tree.error_message ?? 'unknown parser error'}`);
  if (!tree.statements || tree.statements.length !== 1) refuse(`exactly one statement is allowed, found ${tree.statements?.length ?? 0}`);
  walk(tree.statements[0]);
}

function walk(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  if (record.type === 'TABLE_FUNCTION') {
    const fn = record.function as { function_name?: unknown } | undefined;
    const name = String(fn?.function_name ?? '').toLowerCase();
    if (!TABLE_FUNCTIONS.has(name)) refuse(`table function '${name}' is not allowed in the SQL door`);
  } else if (record.class === 'FUNCTION' && typeof record.function_name === 'string') {
    const name = record.function_name.toLowerCase();
    if (SCALAR_DENY.has(name) || FILE_LIKE_FUNCTION.test(name)) refuse(`function '${name}' is not allowed in the SQL door`);
  }
  if ((record.type === 'BASE_TABLE' || record.type === 'SHOW_REF') && typeof record.table_name === 'string') {
    if (FILE_LIKE_TABLE.test(record.table_name)) refuse(`'${record.table_name}' looks like a file; the SQL door reads warehouse tables only`);
  }
  for (const value of Object.values(record)) walk(value);
}
