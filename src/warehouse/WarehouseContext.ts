import type { DbConnection } from './duckdbBinding.js';

/** What the stores need from the Warehouse that owns them. */
export interface WarehouseContext {
  /** the shared connection for single statements */
  readonly owner: DbConnection;
  readonly readOnly: boolean;
  /** runs `work` on a fresh connection of its own (for transactions), closing it after */
  withDedicatedConnection<T>(work: (connection: DbConnection) => Promise<T>): Promise<T>;
  /** the clock (tests may pin it) */
  now(): Date;
}
