/**
 * `frankenscope export --parquet DIR`: the whole warehouse as Parquet, in
 * the lake's layout, opened read-only. While a server holds the warehouse
 * it is refused: DuckDB lets one process open the file, and that server's
 * lake already holds every DONE run.
 */
import { lakeRoot, type AppConfig } from '../config.js';
import { LakeError, Warehouse, WarehouseError } from '../warehouse/index.js';

export interface ExportCliOptions {
  parquet: string;
}

export async function exportCommand(config: AppConfig, opts: ExportCliOptions): Promise<void> {
  let warehouse: Warehouse;
  try {
    warehouse = await Warehouse.open(config.warehousePath, { readOnly: true });
  } catch (err) {
    if (err instanceof WarehouseError && err.code === 'WAREHOUSE_LOCKED') {
      const lake = lakeRoot(config);
      const where = lake ? `its Parquet lake at ${lake} holds every DONE run, written as each finishes: read that` : 'its lake is off (FRANKENSCOPE_LAKE=off)';
      throw new Error(`WAREHOUSE_LOCKED: a running server holds ${config.warehousePath}; ${where}, or stop the server and export again`, { cause: err });
    }
    throw err instanceof WarehouseError ? new Error(`${err.code}: ${err.message}`, { cause: err }) : err;
  }
  try {
    await warehouse.exportParquet(opts.parquet, (line) => process.stdout.write(line + '\n'));
  } catch (err) {
    throw err instanceof LakeError ? new Error(`${err.code}: ${err.message}`, { cause: err }) : err;
  } finally {
    warehouse.closeSync();
  }
}
