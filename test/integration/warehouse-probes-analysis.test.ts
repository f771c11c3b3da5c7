import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_COLUMNS, EXAMPLE_RESULT_COLUMNS, LAYER_EFFECT_COLUMNS } from '../../src/warehouse/analysisColumns.js';
import { openDatabase } from '../../src/warehouse/duckdbBinding.js';
import { SCHEMA_V1 } from '../../src/warehouse/schemaV1.js';
import { NO_LAYER_INDEX, SCHEMA_VERSION, WarehouseError, type AnalysisRows, type Warehouse } from '../../src/warehouse/index.js';
import { withFileWarehouse, withTempDir, withWarehouse } from './warehouse-fixtures.js';

async function newRun(w: Warehouse, kind = 'localize_vision') {
  return w.createRun({ kind, params: { layers: 'all' }, cacheKey: `key-${Math.random()}`, engineVersion: 'test', inputs: [] });
}

type Effect = NonNullable<AnalysisRows['layerEffects']>[number];
type Result = NonNullable<AnalysisRows['exampleResults']>[number];

const effect = (layerIndex: number | null, task: string, metric: string, value: number | null): Effect => ({
  layerIndex,
  section: layerIndex === null ? null : 'llm',
  task,
  metric,
  value,
  ciLow: value === null ? null : value - 0.1,
  ciHigh: value === null ? null : value + 0.1,
  n: 100,
  extra: layerIndex === 2 ? { note: 'peak' } : null,
});

const result = (layerIndex: number | null, exampleId: string, condition: string, correct: boolean | null): Result => ({
  layerIndex,
  exampleId,
  task: 'counting',
  condition,
  answer: correct === null ? null : correct ? '3' : '7',
  correct,
  changed: layerIndex === null ? null : !correct,
  transferred: layerIndex === null ? null : false,
  score: correct === null ? null : correct ? 1 : 0,
  extra: null,
});

async function resultCounts(w: Warehouse): Promise<[unknown, unknown]> {
  const a = await w.readOnlySql('SELECT (SELECT count(*) FROM layer_effects), (SELECT count(*) FROM example_results)');
  return [a.rows[0]![0], a.rows[0]![1]];
}

describe('analysis results (layer_effects, example_results)', () => {
  it('completeAnalysisRun stores both tables and the run is DONE; reads map the no-layer sentinel to null', () =>
    withWarehouse(async (w) => {
      const one = await newRun(w);
      const two = await newRun(w);
      await w.completeAnalysisRun(one.id, {
        layerEffects: [effect(2, 'counting', 'change_rate', 0.4), effect(1, 'counting', 'change_rate', 0.1), effect(null, 'all', 'accuracy', null)],
        exampleResults: [result(null, 'e2', 'clean', true), result(1, 'e2', 'swap', false), result(1, 'e1', 'swap', true), result(null, 'e1', 'clean', null)],
      });
      await w.completeAnalysisRun(two.id, { layerEffects: [effect(-3, 'ocr', 'change_rate', 0.9)] });
      expect((await w.getRuns([one.id]))[0]!.status).toBe('DONE');

      const [effectsOne, effectsTwo, none] = await w.layerEffects([one.id, two.id, 'unknown']);
      expect(effectsOne!.map((e) => [e.layerIndex, e.metric, e.value])).toEqual([
        [null, 'accuracy', null],
        [1, 'change_rate', 0.1],
        [2, 'change_rate', 0.4],
      ]);
      expect(effectsOne![2]).toEqual({ runId: one.id, ...effect(2, 'counting', 'change_rate', 0.4) });
      expect(effectsTwo!.map((e) => [e.layerIndex, e.section])).toEqual([[-3, 'llm']]);
      expect(none).toEqual([]);

      const rows = await w.exampleResults({ runId: one.id });
      expect(rows.map((r) => [r.exampleId, r.layerIndex, r.condition])).toEqual([
        ['e1', null, 'clean'],
        ['e1', 1, 'swap'],
        ['e2', null, 'clean'],
        ['e2', 1, 'swap'],
      ]);
      expect(rows[1]).toEqual({ runId: one.id, ...result(1, 'e1', 'swap', true) });
      expect(rows[0]!.correct).toBeNull();

      // the raw table holds the sentinel; the view shows NULL
      const raw = await w.readOnlySql(`SELECT count(*) FROM example_results WHERE layer_index = ${NO_LAYER_INDEX}`);
      expect(raw.rows[0]![0]).toBe(2);
      const view = await w.readOnlySql(`SELECT layer_index, metric FROM layer_effect_profile WHERE run_id = '${one.id}' ORDER BY layer_index NULLS FIRST`);
      expect(view.rows).toEqual([[null, 'accuracy'], [1, 'change_rate'], [2, 'change_rate']]);
    }));

  it('exampleResults pages by example and filters by layer (null = no layer) and condition', () =>
    withWarehouse(async (w) => {
      const run = await newRun(w);
      const ids = ['e1', 'e2', 'e3', 'e4', 'e5'];
      await w.completeAnalysisRun(run.id, {
        exampleResults: ids.flatMap((id) => [result(null, id, 'clean', true), result(1, id, 'swap', false), result(2, id, 'swap', true)]),
      });
      const page1 = await w.exampleResults({ runId: run.id, first: 2 });
      expect(page1).toHaveLength(6);
      const page2 = await w.exampleResults({ runId: run.id, first: 2, after: page1.at(-1)!.exampleId });
      const page3 = await w.exampleResults({ runId: run.id, first: 2, after: page2.at(-1)!.exampleId });
      expect([...page1, ...page2, ...page3].map((r) => r.exampleId)).toEqual(ids.flatMap((id) => [id, id, id]));
      expect((await w.exampleResults({ runId: run.id, layerIndex: 2 })).map((r) => [r.exampleId, r.layerIndex])).toEqual(ids.map((id) => [id, 2]));
      expect((await w.exampleResults({ runId: run.id, layerIndex: null })).every((r) => r.layerIndex === null && r.condition === 'clean')).toBe(true);
      expect(await w.exampleResults({ runId: run.id, condition: 'swap', first: 1 })).toHaveLength(2);
      await expect(w.exampleResults({ runId: run.id, first: 1001 })).rejects.toThrow(/'first'/);
      await expect(w.exampleResults({ runId: run.id, layerIndex: NO_LAYER_INDEX })).rejects.toThrow(/'layerIndex'/);
    }));

  it('a failing write keeps nothing, marks the run FAILED and throws WRITE_FAILED', () =>
    withWarehouse(async (w) => {
      const run = await newRun(w);
      const duplicate = effect(1, 'counting', 'change_rate', 0.1);
      const error = await w
        .completeAnalysisRun(run.id, { exampleResults: [result(1, 'e1', 'swap', true)], layerEffects: [duplicate, duplicate] })
        .catch((e: unknown) => e);
      expect((error as WarehouseError).code).toBe('WRITE_FAILED');
      expect(await resultCounts(w)).toEqual([0, 0]);
      expect((await w.getRuns([run.id]))[0]).toMatchObject({ status: 'FAILED' });

      const sentinel = await newRun(w);
      const bad = await w.completeAnalysisRun(sentinel.id, { exampleResults: [result(NO_LAYER_INDEX, 'e1', 'swap', true)] }).catch((e: unknown) => e);
      expect((bad as WarehouseError).code).toBe('WRITE_FAILED');
      expect((bad as WarehouseError).message).toContain("'layerIndex'");
      expect(await resultCounts(w)).toEqual([0, 0]);
    }));

  it('a run that is not active is refused with RUN_NOT_FOUND and nothing is written', () =>
    withWarehouse(async (w) => {
      const run = await newRun(w);
      await w.completeAnalysisRun(run.id, {});
      const error = await w.completeAnalysisRun(run.id, { layerEffects: [effect(1, 'counting', 'x', 1)] }).catch((e: unknown) => e);
      expect((error as WarehouseError).code).toBe('RUN_NOT_FOUND');
      expect(await resultCounts(w)).toEqual([0, 0]);
      expect((await w.getRuns([run.id]))[0]!.status).toBe('DONE');
    }));
});

describe('migration 2', () => {
  it('column specs match the tables, in order', () =>
    withWarehouse(async (w) => {
      for (const [table, spec] of [['examples', EXAMPLE_COLUMNS], ['layer_effects', LAYER_EFFECT_COLUMNS], ['example_results', EXAMPLE_RESULT_COLUMNS]] as const) {
        const described = await w.readOnlySql(`DESCRIBE ${table}`);
        expect(described.rows.map((r) => r[0]), table).toEqual(spec.map((c) => c.name));
      }
    }));

  it('upgrades a version-1 file, keeping its rows', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'v1.duckdb');
      const instance = await openDatabase(path, { readOnly: false });
      const connection = await instance.connect(() => undefined);
      await connection.run('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)');
      for (const statement of SCHEMA_V1) await connection.run(statement);
      await connection.run("INSERT INTO schema_migrations VALUES (1, 'v1', now()::TIMESTAMP)");
      await connection.run("INSERT INTO fingerprint_cache VALUES ('k', 'f')");
      connection.closeSync();
      instance.closeSync();

      await withFileWarehouse(path, async (w) => {
        const ledger = await w.readOnlySql('SELECT version FROM schema_migrations ORDER BY version');
        expect(ledger.rows.map((r) => r[0])).toEqual([1, 2, 3, 4, 5]);
        expect(SCHEMA_VERSION).toBe(5);
        expect(await w.fingerprintCache().get('k')).toBe('f');
        expect(await w.listProbeSets()).toEqual([]);
        expect(await w.layerEffects(['x'])).toEqual([[]]);
      });
    }));
});
