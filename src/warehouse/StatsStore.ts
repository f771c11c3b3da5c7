import {
  GROUP_STATS_COLUMNS,
  LAYER_STATS_COLUMNS,
  TENSOR_STATS_COLUMNS,
  toColumnArrays,
} from './columnSpecs.js';
import type { DbConnection } from './duckdbBinding.js';
import { camelRow, groupInOrder, selectList } from './rowMapping.js';
import type { CharacterizationRows, GroupStatRow, LayerStatRow, TensorStatRow, TensorStatsQuery } from './types.js';
import type { WarehouseContext } from './WarehouseContext.js';

const SECTIONS = ['vision', 'projector', 'llm', 'other'];

/** tensor_stats, layer_stats and group_stats: appended in completeRun's transaction, read in batches. */
export class StatsStore {
  constructor(private readonly context: WarehouseContext) {}

  /** Appends every row of a result under `runId` (any runId on the rows is ignored). */
  async append(connection: DbConnection, runId: string, result: CharacterizationRows): Promise<void> {
    const withRun = <T>(rows: readonly T[]) => rows.map((row) => ({ ...row, runId }));
    await connection.append('tensor_stats', TENSOR_STATS_COLUMNS, toColumnArrays(TENSOR_STATS_COLUMNS, withRun(result.tensors)));
    await connection.append('layer_stats', LAYER_STATS_COLUMNS, toColumnArrays(LAYER_STATS_COLUMNS, withRun(result.layers)));
    await connection.append('group_stats', GROUP_STATS_COLUMNS, toColumnArrays(GROUP_STATS_COLUMNS, withRun(result.groups)));
  }

  /** One statement for all run ids; one list per id, in request order, each by layer then phase. */
  async layerStats(runIds: readonly string[]): Promise<LayerStatRow[][]> {
    if (runIds.length === 0) return [];
    const rows = await this.context.owner.all(
      `SELECT ${selectList(LAYER_STATS_COLUMNS)} FROM layer_stats
       WHERE run_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY run_id, layer_index, phase`,
      [[...runIds]],
    );
    return groupInOrder(runIds, rows.map((row) => camelRow<LayerStatRow>(row)), (row) => row.runId);
  }

  /** One statement for all run ids; one list per id, in request order. */
  async groupStats(runIds: readonly string[]): Promise<GroupStatRow[][]> {
    if (runIds.length === 0) return [];
    const rows = await this.context.owner.all(
      `SELECT ${selectList(GROUP_STATS_COLUMNS)} FROM group_stats
       WHERE run_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY run_id, grouping, group_key, phase`,
      [[...runIds]],
    );
    return groupInOrder(runIds, rows.map((row) => camelRow<GroupStatRow>(row)), (row) => row.runId);
  }

  /**
   * One page of tensor rows, ordered by tensor_name then phase. `first`
   * counts tensors, not rows, so a page never splits a tensor's phases and
   * `after` (the previous page's last tensor_name) is a stable cursor.
   */
  async tensorStats(query: TensorStatsQuery): Promise<TensorStatRow[]> {
    const first = query.first ?? 100;
    if (!Number.isInteger(first) || first < 1 || first > 1000) {
      throw new RangeError(`tensorStats: 'first' must be an integer in [1, 1000], got ${first}`);
    }
    if (query.section !== undefined && !SECTIONS.includes(query.section)) {
      throw new RangeError(`tensorStats: 'section' must be one of ${SECTIONS.join(', ')}, got ${String(query.section)}`);
    }
    if (query.layerIndex !== undefined && !Number.isInteger(query.layerIndex)) {
      throw new RangeError(`tensorStats: 'layerIndex' must be an integer, got ${query.layerIndex}`);
    }
    const rows = await this.context.owner.all(
      `WITH page AS (
         SELECT DISTINCT tensor_name FROM tensor_stats
         WHERE run_id = $run
           AND ($section::VARCHAR IS NULL OR section = $section)
           AND ($layer::INTEGER IS NULL OR layer_index = $layer)
           AND ($after::VARCHAR IS NULL OR tensor_name > $after)
         ORDER BY tensor_name LIMIT $first)
       SELECT ${selectList(TENSOR_STATS_COLUMNS, 't')} FROM tensor_stats t JOIN page USING (tensor_name)
       WHERE t.run_id = $run ORDER BY t.tensor_name, t.phase`,
      {
        run: query.runId,
        section: query.section ?? null,
        layer: query.layerIndex ?? null,
        after: query.after ?? null,
        first,
      },
    );
    return rows.map((row) => camelRow<TensorStatRow>(row));
  }
}
