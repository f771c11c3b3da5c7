import { availableParallelism } from 'node:os';
import { threadpoolSize } from '../threadpool.js';
import type { DbConnection } from './duckdbBinding.js';
import { SlotGate } from './SlotGate.js';
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

/** How often an interrupt is sent again after the deadline, until the query gives up. */
const REINTERRUPT_MS = 50;

/**
 * Door queries that may run at once. Each holds a libuv threadpool thread
 * for as long as it runs (@duckdb/node-api executes there), and a CPU: at
 * most a quarter of the pool, so the warehouse's own statements and the
 * analyses' file reads always find threads, and fewer than the cores, so
 * one core stays for the server itself (DuckDB runs each statement on its
 * calling thread alone: duckdbBinding.ts).
 */
export function doorSlots(poolSize = threadpoolSize(), cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, Math.floor(poolSize / 4), cores - 1));
}

/**
 * The analysts' read-only SQL door. Each query gets a connection of its own,
 * so interrupting it on timeout touches nothing else. Checks, in order: the
 * text (one statement, a read keyword), DuckDB's parse tree (functions, file
 * tables), DuckDB's statement type; then it runs, streaming until maxRows.
 * Underneath, the instance has file access and extension loading disabled
 * and its configuration locked (duckdbBinding.ts).
 */
export class SqlDoor {
  readonly #gate: SlotGate;

  constructor(private readonly context: WarehouseContext, slots = doorSlots()) {
    this.#gate = new SlotGate(slots);
  }

  /** Door queries running now (tests and diagnostics). */
  get running(): number {
    return this.#gate.busy;
  }

  /**
   * The deadline counts from this call: time spent waiting for a slot is
   * part of timeoutMs, and a query that gets no slot in time answers
   * SQL_TIMEOUT without running.
   */
  async query(sql: string, options: SqlDoorOptions = {}): Promise<SqlResult> {
    const start = performance.now();
    if (typeof sql !== 'string') throw new TypeError(`readOnlySql: 'query' must be a string, got ${typeof sql}`);
    const maxRows = Math.min(positiveInteger('maxRows', options.maxRows ?? DOOR_LIMITS.defaultRows), DOOR_LIMITS.maxRows);
    const timeoutMs = Math.min(positiveInteger('timeoutMs', options.timeoutMs ?? DOOR_LIMITS.defaultTimeoutMs), DOOR_LIMITS.maxTimeoutMs);
    const read = checkStatementText(sql);
    const left = () => timeoutMs - (performance.now() - start);
    const release = await this.#gate.acquire(left());
    if (!release) {
      throw new WarehouseError('SQL_TIMEOUT', `query waited longer than timeoutMs=${timeoutMs} for one of the door's ${this.#gate.slots} slots (all held by other queries) and did not run`);
    }
    try {
      return await this.context.withDedicatedConnection((connection) => this.#run(connection, sql, read, maxRows, timeoutMs, left));
    } finally {
      release();
    }
  }

  async #run(
    connection: DbConnection,
    sql: string,
    read: { target: string; explain: boolean },
    maxRows: number,
    timeoutMs: number,
    left: () => number,
  ): Promise<SqlResult> {
    let timedOut = false;
    let retry: NodeJS.Timeout | undefined;
    // An interrupt only reaches a statement DuckDB is executing: one sent
    // while the statement still waits for a threadpool thread, or between
    // the checks' statements, is lost. So after the deadline it is sent
    // again every REINTERRUPT_MS until the work settles.
    const timer = setTimeout(() => {
      timedOut = true;
      connection.interrupt();
      retry = setInterval(() => connection.interrupt(), REINTERRUPT_MS);
    }, Math.max(0, left()));
    const inTime = () => {
      if (timedOut || left() <= 0) throw new WarehouseError('SQL_TIMEOUT', `query ran longer than timeoutMs=${timeoutMs} and was interrupted`);
    };
    try {
      await this.analyse(connection, sql, read.target, read.explain);
      inTime();
      const rows = await connection.streamRows(sql, maxRows);
      // a statement that finished after the deadline is not an answer in time
      inTime();
      return rows;
    } catch (error) {
      if (error instanceof WarehouseError) throw error;
      if (timedOut) throw new WarehouseError('SQL_TIMEOUT', `query ran longer than timeoutMs=${timeoutMs} and was interrupted`, { cause: error });
      throw new WarehouseError('SQL_ERROR', errorMessage(error), { cause: error });
    } finally {
      clearTimeout(timer);
      clearInterval(retry);
    }
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
