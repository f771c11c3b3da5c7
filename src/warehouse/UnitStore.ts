import type { DbConnection } from './duckdbBinding.js';
import type { WarehouseContext } from './WarehouseContext.js';

/** A finished unit of a run, as staged. */
export interface StagedUnit {
  unitIndex: number;
  label: string;
  /** who computed it, e.g. 'in-process' or a worker's name */
  worker: string;
  /** encodeUnitResult bytes */
  result: Buffer;
}

/**
 * The run_units table (migration 5). The binding speaks plain JS values, so
 * the bytes cross it as base64 text and DuckDB stores them as BLOB.
 */
export class UnitStore {
  constructor(private readonly context: WarehouseContext) {}

  /** Stages a unit; staging the same unit again keeps the first (results are deterministic). */
  async stage(runId: string, unit: Omit<StagedUnit, 'result'>, result: Uint8Array): Promise<void> {
    await this.context.owner.run(
      `INSERT INTO run_units (run_id, unit_index, label, worker, result, staged_at)
       VALUES (?, ?, ?, ?, from_base64(?), ?) ON CONFLICT DO NOTHING`,
      [runId, unit.unitIndex, unit.label, unit.worker, Buffer.from(result.buffer, result.byteOffset, result.byteLength).toString('base64'), this.context.now()],
    );
  }

  async staged(runId: string): Promise<StagedUnit[]> {
    const rows = await this.context.owner.all(
      'SELECT unit_index, label, worker, to_base64(result) AS result FROM run_units WHERE run_id = ? ORDER BY unit_index',
      [runId],
    );
    return rows.map((row) => ({
      unitIndex: Number(row.unit_index),
      label: String(row.label),
      worker: String(row.worker),
      result: Buffer.from(String(row.result), 'base64'),
    }));
  }

  /** How many staged units each worker computed, by worker name. */
  async unitsByWorker(connection: DbConnection, runId: string): Promise<[string, number][]> {
    const rows = await connection.all('SELECT worker, count(*) AS n FROM run_units WHERE run_id = ? GROUP BY worker ORDER BY worker', [runId]);
    return rows.map((row) => [String(row.worker), Number(row.n)]);
  }

  /** Inside completeRun's transaction: a DONE run's staged units are no longer needed. */
  async drop(connection: DbConnection, runId: string): Promise<void> {
    await connection.run('DELETE FROM run_units WHERE run_id = ?', [runId]);
  }
}
