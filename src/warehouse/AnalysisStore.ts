import { EXAMPLE_RESULT_COLUMNS, LAYER_EFFECT_COLUMNS, readLayerIndex, storedLayerIndex } from './analysisColumns.js';
import { toColumnArrays } from './columnSpecs.js';
import type { DbConnection, PlainRow } from './duckdbBinding.js';
import { camelRow, groupInOrder, selectList } from './rowMapping.js';
import type { AnalysisRows, ExampleResultRow, ExampleResultsQuery, LayerEffectRow } from './types.js';
import type { WarehouseContext } from './WarehouseContext.js';

/** layer_effects and example_results: appended in completeAnalysisRun's transaction, read in batches. */
export class AnalysisStore {
  constructor(private readonly context: WarehouseContext) {}

  /** Appends every row under `runId` (any runId on the rows is ignored). */
  async append(connection: DbConnection, runId: string, result: AnalysisRows): Promise<void> {
    const withRun = <T>(rows: readonly T[] | undefined) => (rows ?? []).map((row) => ({ ...row, runId }));
    await connection.append('layer_effects', LAYER_EFFECT_COLUMNS, toColumnArrays(LAYER_EFFECT_COLUMNS, withRun(result.layerEffects)));
    await connection.append('example_results', EXAMPLE_RESULT_COLUMNS, toColumnArrays(EXAMPLE_RESULT_COLUMNS, withRun(result.exampleResults)));
  }

  /** One statement for all run ids; one list per id in request order, each by layer (no-layer rows first), task, metric. */
  async layerEffects(runIds: readonly string[]): Promise<LayerEffectRow[][]> {
    if (runIds.length === 0) return [];
    const rows = await this.context.owner.all(
      `SELECT ${selectList(LAYER_EFFECT_COLUMNS)} FROM layer_effects
       WHERE run_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY run_id, layer_index, task, metric`,
      [[...runIds]],
    );
    return groupInOrder(runIds, rows.map(toLayerEffect), (row) => row.runId);
  }

  /**
   * One page of example results ordered by example_id, layer, condition.
   * `first` counts examples, not rows, so a page never splits an example's
   * rows and `after` (the previous page's last example_id) is a stable cursor.
   */
  async exampleResults(query: ExampleResultsQuery): Promise<ExampleResultRow[]> {
    const first = query.first ?? 100;
    if (!Number.isInteger(first) || first < 1 || first > 1000) {
      throw new RangeError(`exampleResults: 'first' must be an integer in [1, 1000], got ${first}`);
    }
    const layer = query.layerIndex === undefined ? null : storedLayerIndex(query.layerIndex, 'exampleResults');
    const rows = await this.context.owner.all(
      `WITH page AS (
         SELECT DISTINCT example_id FROM example_results
         WHERE run_id = $run
           AND ($layer::INTEGER IS NULL OR layer_index = $layer)
           AND ($condition::VARCHAR IS NULL OR condition = $condition)
           AND ($after::VARCHAR IS NULL OR example_id > $after)
         ORDER BY example_id LIMIT $first)
       SELECT ${selectList(EXAMPLE_RESULT_COLUMNS, 'r')} FROM example_results r JOIN page USING (example_id)
       WHERE r.run_id = $run
         AND ($layer::INTEGER IS NULL OR r.layer_index = $layer)
         AND ($condition::VARCHAR IS NULL OR r.condition = $condition)
       ORDER BY r.example_id, r.layer_index, r.condition`,
      { run: query.runId, layer, condition: query.condition ?? null, after: query.after ?? null, first },
    );
    return rows.map(toExampleResult);
  }
}

function parseExtra(extra: unknown): unknown {
  return extra === null ? null : (JSON.parse(extra as string) as unknown);
}

function toLayerEffect(row: PlainRow): LayerEffectRow {
  const r = camelRow<LayerEffectRow>(row);
  return { ...r, layerIndex: readLayerIndex(r.layerIndex), extra: parseExtra(r.extra) };
}

function toExampleResult(row: PlainRow): ExampleResultRow {
  const r = camelRow<ExampleResultRow>(row);
  return { ...r, layerIndex: readLayerIndex(r.layerIndex), extra: parseExtra(r.extra) };
}
