import type { DbConnection } from './duckdbBinding.js';
import { checkParseTree, checkStatementText, checkStatementTypes, isNotSelectTree } from './sqlPolicy.js';
import type { SqlResult } from './types.js';
import { WarehouseError, errorMessage } from './WarehouseError.js';
import type { WarehouseContext } from './WarehouseContext.js';

/** Limits of one door query. */
export interface SqlDoorOptions {
  /** rows returned at most; default 1000, capped at 10000 */
  maxRows?: number;
  /** wall-clock limit in ms; default 5000, capped at 60000 */
  timeoutMs?: number;
}

export const DOOR_LIMITS = { defaultRows: 1000, maxRows: 10_000, defaultTimeoutMs: 5000, maxTimeoutMs: 60_000 } as const;

/**
 * The analysts' read-only SQL door. Each query gets a connection of its own,
 * so interrupting it on timeout touches nothing else. Checks, in order: the
 * text (one statement, a read keyword), DuckDB's parse tree (functions, file
 * tables), DuckDB's statement type; then it runs, streaming until maxRows.
 * Underneath, the instance has file access and extension loading disabled
 * and its configuration locked (duckdbBinding.ts).
 */
export class SqlDoor {
  constructor(private readonly context: WarehouseContext) {}

  async query(sql: string, options: SqlDoorOptions = {}): Promise<SqlResult> {
    if (typeof sql !== 'string') throw new TypeError(`readOnlySql: 'query' must be a string, got ${typeof sql}`);
    const maxRows = Math.min(positiveInteger('maxRows', options.maxRows ?? DOOR_LIMITS.defaultRows), DOOR_LIMITS.maxRows);
    const timeoutMs = Math.min(positiveInteger('timeoutMs', options.timeoutMs ?? DOOR_LIMITS.defaultTimeoutMs), DOOR_LIMITS.maxTimeoutMs);
    const read = checkStatementText(sql);
    return this.context.withDedicatedConnection(async (connection) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        connection.interrupt();
      }, timeoutMs);
      try {
        await this.analyse(connection, sql, read.target, read.explain);
        return await connection.streamRows(sql, maxRows);
      } catch (error) {
        if (error instanceof WarehouseError) throw error;
        if (timedOut) throw new WarehouseError('SQL_TIMEOUT', `query ran longer than timeoutMs=${timeoutMs} and was interrupted`, { cause: error });
        throw new WarehouseError('SQL_ERROR', errorMessage(error), { cause: error });
      } finally {
        clearTimeout(timer);
      }
    });
  }

  private async analyse(connection: DbConnection, sql: string, target: string, explain: boolean): Promise<void> {
    const rows = await connection.all('SELECT json_serialize_sql(?::VARCHAR) AS tree', [target]);
    const tree = String(rows[0]?.tree);
    if (isNotSelectTree(tree)) {
      // a write behind a read keyword (WITH ... DELETE): name it from DuckDB's statement type
      const types = await connection.statementTypes(target).catch(() => undefined);
      if (types) checkStatementTypes(types, 'SELECT');
    }
    checkParseTree(tree);
    checkStatementTypes(await connection.statementTypes(sql), explain ? 'EXPLAIN' : 'SELECT');
    if (explain) checkStatementTypes(await connection.statementTypes(target), 'SELECT');
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`readOnlySql: '${name}' must be a positive integer, got ${value}`);
  return value;
}
