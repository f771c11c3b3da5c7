import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProbeSet } from '../../src/engine/probes/index.js';
import { runFile, runRowFile } from '../../src/warehouse/lake/lakePaths.js';
import { REFERENCE_TABLES, RUN_RESULT_TABLES, RUNS_TABLE, UNLAKED_TABLES } from '../../src/warehouse/lake/lakeTables.js';
import type { AnalysisRows, Warehouse } from '../../src/warehouse/index.js';
import { columnTypes, lakeTable, rowTexts, withLakeReader } from '../helpers/lake-reader.js';
import { writeJsonlSet } from '../unit/probes-fixtures.js';
import { makeResult, storedRun, withFileWarehouse, withTempDir } from './warehouse-fixtures.js';

const checkpoint = (id: string, fingerprint: string) => ({
  id,
  name: id,
  path: `/models/${id}`,
  fingerprint,
  architecture: 'Qwen2ForCausalLM',
  numLayers: 2,
  numVisionLayers: 0,
  // past 2^53: a BIGINT the JSON door could only give as a string
  parameterCount: 9_007_199_254_740_993,
  dtype: 'BF16',
  config: { model_type: 'qwen2', hidden_size: 8 },
});

// -0.0 beside 0.0 in one column: a Parquet writer that dictionary-encodes floats by value equality loses the sign
const analysisRows: AnalysisRows = {
  layerEffects: [
    { layerIndex: null, section: null, task: 'all', metric: 'accuracy', value: 0.5, ciLow: 0, ciHigh: 0.75, n: 4, extra: null },
    { layerIndex: 1, section: 'llm', task: 'counting', metric: 'change_rate', value: null, ciLow: null, ciHigh: null, n: 0, extra: { note: '0/0' } },
    { layerIndex: 2, section: 'llm', task: 'counting', metric: 'change_rate', value: Number.NaN, ciLow: -0, ciHigh: 1e-300, n: 3, extra: { why: "it's \"quoted\"" } },
    // enough zeros of both signs that a writer would choose a dictionary for the column
    ...Array.from({ length: 8 }, (_, i) => ({ layerIndex: 3 + i, section: 'llm' as const, task: 'ocr', metric: 'change_rate', value: i % 2 === 0 ? 0 : -0, ciLow: null, ciHigh: null, n: 1, extra: null })),
  ],
  exampleResults: [
    { layerIndex: null, exampleId: 'p1', task: 'counting', condition: 'clean', answer: '4', correct: true, changed: null, transferred: null, score: 1, extra: null },
    { layerIndex: 2, exampleId: 'p1', task: 'counting', condition: 'swap', answer: null, correct: false, changed: true, transferred: false, score: 0, extra: { iou: 0.1 } },
  ],
};

/** Stores one run of each result family, a checkpoint and a probe set; resolves to the run ids. */
async function fillWarehouse(w: Warehouse, dir: string): Promise<{ characterization: string; analysis: string }> {
  await w.registerCheckpoint(checkpoint('demo/base', 'fp-base'), [
    { name: 'model.layers.0.mlp.up_proj.weight', dtype: 'BF16', shape: [4, 8], layerIndex: 1, section: 'llm', component: 'mlp' },
    { name: 'lm_head.weight', dtype: 'BF16', shape: [16, 8], layerIndex: null, section: 'other', component: 'other' },
  ]);
  await w.upsertProbeSet({ ...(await loadProbeSet(writeJsonlSet(join(dir, 'probes')))), id: 'demo/probes' });
  const characterization = await storedRun(w, { topK: 2 }, makeResult(3));
  const run = await w.createRun({ kind: 'localization.visual_token_swap', params: { layers: 'all' }, cacheKey: 'k-analysis', engineVersion: 'test', inputs: [{ role: 'model', id: 'demo/base' }] });
  await w.completeAnalysisRun(run.id, analysisRows);
  return { characterization: characterization.id, analysis: run.id };
}

/** The DuckDB one-liners docs/warehouse.md gives analysts. */
const DOC_QUERIES = [...readFileSync(new URL('../../docs/warehouse.md', import.meta.url), 'utf8').matchAll(/^duckdb -c "(.*)"$/gm)].map((m) => m[1]!);

const filesUnder = (root: string): string[] => (existsSync(root) ? readdirSync(root, { recursive: true, encoding: 'utf8' }) : []);

describe('the Parquet lake', () => {
  it("holds every table of each DONE run and the reference tables with the warehouse's rows and column types", () =>
    withTempDir(async (dir) => {
      const lake = join(dir, 'lake');
      await withFileWarehouse(join(dir, 'w.duckdb'), async (w) => {
        const runs = await fillWarehouse(w, dir);
        await w.lakeSettled();
        await withLakeReader(async (reader) => {
          for (const table of [...RUN_RESULT_TABLES, RUNS_TABLE]) {
            const key = table === RUNS_TABLE ? 'id' : 'run_id';
            for (const runId of Object.values(runs)) {
              const where = ` WHERE ${key} = '${runId}'`;
              const inWarehouse = await w.readOnlySql(rowTexts(`SELECT * FROM ${table}${where}`), { maxRows: 10_000 });
              const inLake = await reader.rows(rowTexts(lakeTable(lake, table) + where));
              expect(inLake, `${table} of ${runId}`).toEqual(inWarehouse.rows);
            }
            expect(await reader.rows(columnTypes(lakeTable(lake, table))), table).toEqual((await w.readOnlySql(columnTypes(`SELECT * FROM ${table}`))).rows);
          }
          for (const table of REFERENCE_TABLES) {
            const inWarehouse = await w.readOnlySql(rowTexts(`SELECT * FROM ${table}`), { maxRows: 10_000 });
            expect(inWarehouse.rows.length, table).toBeGreaterThan(0);
            expect(await reader.rows(rowTexts(lakeTable(lake, table))), table).toEqual(inWarehouse.rows);
            expect(await reader.rows(columnTypes(lakeTable(lake, table))), table).toEqual((await w.readOnlySql(columnTypes(`SELECT * FROM ${table}`))).rows);
          }
        });
      }, { lake: { root: lake } });
    }));

  it('is partitioned Hive-style by run kind: the plain glob and hive_partitioning = true both add the column kind', () =>
    withTempDir(async (dir) => {
      const lake = join(dir, 'lake');
      await withFileWarehouse(join(dir, 'w.duckdb'), async (w) => {
        const runs = await fillWarehouse(w, dir);
        await w.lakeSettled();
        expect(existsSync(join(lake, 'layer_effects', 'kind=localization.visual_token_swap', `${runs.analysis}.parquet`))).toBe(true);
        expect(existsSync(join(lake, 'tensor_stats', 'kind=characterization', `${runs.characterization}.parquet`))).toBe(true);
        await withLakeReader(async (reader) => {
          const plain = await reader.rows(`SELECT DISTINCT run_id, kind FROM '${lake}/layer_effects/**/*.parquet'`);
          const hive = await reader.rows(`SELECT DISTINCT run_id, kind FROM read_parquet('${lake}/layer_effects/**/*.parquet', hive_partitioning = true)`);
          expect(plain).toEqual([[runs.analysis, 'localization.visual_token_swap']]);
          expect(hive).toEqual(plain);
          const withPartition = await reader.rows(columnTypes(`SELECT * FROM '${lake}/layer_effects/**/*.parquet'`));
          expect(withPartition).toEqual([...(await w.readOnlySql(columnTypes('SELECT * FROM layer_effects'))).rows, ['kind', 'VARCHAR']]);
          // runs carries its kind as a column: not partitioned (Spark refuses a partition column that is also in the files)
          expect(readdirSync(join(lake, 'runs')).sort()).toEqual([`${runs.analysis}.parquet`, `${runs.characterization}.parquet`].sort());
          expect(await reader.rows(`SELECT kind, count(*) FROM '${lake}/runs/**/*.parquet' GROUP BY ALL ORDER BY ALL`)).toEqual([
            ['characterization', 1n],
            ['localization.visual_token_swap', 1n],
          ]);
          // an analyst joins results to checkpoints without the warehouse
          const joined = await reader.rows(
            `SELECT c.id FROM '${lake}/runs/**/*.parquet' r, json_each(r.inputs) i JOIN '${lake}/checkpoints/**/*.parquet' c ON c.id = (i.value->>'$.id') WHERE r.id = '${runs.analysis}'`,
          );
          expect(joined).toEqual([['demo/base']]);
        });
      }, { lake: { root: lake } });
    }));

  it("answers the DuckDB one-liners of docs/warehouse.md", () =>
    withTempDir(async (dir) => {
      const lake = join(dir, 'lake');
      expect(DOC_QUERIES.length).toBeGreaterThanOrEqual(3);
      await withFileWarehouse(join(dir, 'w.duckdb'), async (w) => {
        await fillWarehouse(w, dir);
        await w.lakeSettled();
        await withLakeReader(async (reader) => {
          for (const query of DOC_QUERIES) expect((await reader.rows(query.replaceAll("'data/lake/", `'${lake}/`))).length, query).toBeGreaterThan(0);
        });
      }, { lake: { root: lake } });
    }));

  it('keeps the reference tables current: a checkpoint registered after the last run shows without a new run', () =>
    withTempDir(async (dir) => {
      const lake = join(dir, 'lake');
      await withFileWarehouse(join(dir, 'w.duckdb'), async (w) => {
        await fillWarehouse(w, dir);
        await w.lakeSettled();
        await w.upsertCheckpoint(checkpoint('demo/rl', 'fp-rl'));
        await w.lakeSettled();
        await withLakeReader(async (reader) => {
          expect(await reader.rows(`SELECT id FROM '${lake}/checkpoints/**/*.parquet' ORDER BY id`)).toEqual([['demo/base'], ['demo/rl']]);
        });
      }, { lake: { root: lake } });
    }));

  it('a lake write that fails leaves the run DONE with its rows and logs the run id and the fix', () =>
    withTempDir(async (dir) => {
      // a file where the lake folder should be: every write fails (as with permission denied or a full disk)
      const lake = join(dir, 'lake');
      writeFileSync(lake, 'not a folder');
      const log: string[] = [];
      await withFileWarehouse(join(dir, 'w.duckdb'), async (w) => {
        const run = await storedRun(w, { topK: 2 }, makeResult(2));
        await w.lakeSettled();
        const [stored] = await w.getRuns([run.id]);
        expect(stored!.status).toBe('DONE');
        expect((await w.readOnlySql(`SELECT count(*) FROM layer_stats WHERE run_id = '${run.id}'`)).rows).toEqual([[4]]);
        const line = log.find((l) => l.includes(run.id));
        expect(line).toMatch(/lake: run \S+ was not written to .*lake/);
        expect(line).toContain('frankenscope export --parquet');
      }, { lake: { root: lake, log: (l) => log.push(l) } });
    }));

  it('writes runs DONE before the lake existed at the next open, and a DONE run only once', () =>
    withTempDir(async (dir) => {
      const lake = join(dir, 'lake');
      const path = join(dir, 'w.duckdb');
      const runId = await withFileWarehouse(path, async (w) => (await storedRun(w, { topK: 2 }, makeResult(2))).id);
      expect(existsSync(lake)).toBe(false);
      const runsFile = join(lake, 'runs', `${runId}.parquet`);
      const statsFile = join(lake, 'layer_stats', 'kind=characterization', `${runId}.parquet`);
      await withFileWarehouse(path, (w) => w.lakeSettled(), { lake: { root: lake } });
      const written = [statSync(runsFile).ino, statSync(statsFile).ino];
      await withFileWarehouse(path, (w) => w.lakeSettled(), { lake: { root: lake } });
      // rename() gives a rewritten file a new inode: the same inodes mean the files were left alone
      expect([statSync(runsFile).ino, statSync(statsFile).ino]).toEqual(written);
    }));

  it('closing with lake writes queued leaves no temp file and no partial file; the next open completes the lake', () =>
    withTempDir(async (dir) => {
      const lake = join(dir, 'lake');
      const path = join(dir, 'w.duckdb');
      const log: string[] = [];
      const ids = await withFileWarehouse(path, async (w) => {
        const out: string[] = [];
        for (let i = 0; i < 3; i++) out.push((await storedRun(w, { topK: i + 1 }, makeResult(20, i))).id);
        return out;
      }, { lake: { root: lake, log: (l) => log.push(l) } });
      expect(log.join('\n')).toMatch(/lake: stopped with \d+ write\(s\) unfinished/);
      const leftAfterClose = filesUnder(lake);
      expect(leftAfterClose.filter((f) => f.endsWith('.tmp'))).toEqual([]);
      await withLakeReader(async (reader) => {
        // whatever was renamed into place is a whole Parquet file
        for (const file of leftAfterClose.filter((f) => f.endsWith('.parquet'))) await reader.rows(`SELECT count(*) FROM '${join(lake, file)}'`);
      });
      await withFileWarehouse(path, (w) => w.lakeSettled(), { lake: { root: lake } });
      await withLakeReader(async (reader) => {
        expect((await reader.rows(`SELECT id FROM '${lake}/runs/**/*.parquet' ORDER BY id`)).flat()).toEqual([...ids].sort());
        expect(await reader.rows(`SELECT count(DISTINCT run_id) FROM '${lake}/tensor_stats/**/*.parquet'`)).toEqual([[3n]]);
      });
      expect(filesUnder(lake).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }));

  it('removes the temp files of a writer that was killed, and leaves those of one still running', () =>
    withTempDir(async (dir) => {
      const lake = join(dir, 'lake');
      const folder = join(lake, 'tensor_stats', 'kind=characterization');
      mkdirSync(folder, { recursive: true });
      const exited = spawnSync(process.execPath, ['-e', '0']);
      const killed = join(folder, `.r1.parquet.${exited.pid}-0badcafe.tmp`);
      const running = join(folder, `.r2.parquet.${process.ppid}-0badcafe.tmp`);
      for (const file of [killed, running]) writeFileSync(file, 'half a file');
      await withFileWarehouse(join(dir, 'w.duckdb'), (w) => w.lakeSettled(), { lake: { root: lake } });
      expect([existsSync(killed), existsSync(running)]).toEqual([false, true]);
    }));

  it('never names a file outside its table folder, whatever a run id or kind holds', () => {
    expect(() => runFile('/lake', 'layer_stats', 'characterization', '../../etc/x')).toThrow(/run id '..\/..\/etc\/x' cannot be a file name/);
    expect(() => runRowFile('/lake', '')).toThrow(RangeError);
    expect(runFile('/lake', 'layer_stats', 'a/../b', 'r1')).toBe('/lake/layer_stats/kind=a%2F..%2Fb/r1.parquet');
  });

  it('files every warehouse table as a run table, a reference table or named bookkeeping', () =>
    withTempDir((dir) =>
      withFileWarehouse(join(dir, 'w.duckdb'), async (w) => {
        const tables = (await w.readOnlySql(`SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1`)).rows.flat();
        const filed = [...RUN_RESULT_TABLES, RUNS_TABLE, ...REFERENCE_TABLES, ...UNLAKED_TABLES].sort();
        expect(tables).toEqual(filed);
      }),
    ));

  it('is for outside tools: the SQL door still refuses to read it', () =>
    withTempDir(async (dir) => {
      const lake = join(dir, 'lake');
      await withFileWarehouse(join(dir, 'w.duckdb'), async (w) => {
        await storedRun(w, { topK: 2 }, makeResult(2));
        await w.lakeSettled();
        for (const query of [`SELECT * FROM read_parquet('${lake}/runs/**/*.parquet')`, `SELECT * FROM '${lake}/runs/**/*.parquet'`]) {
          await expect(w.readOnlySql(query)).rejects.toMatchObject({ code: 'SQL_REFUSED' });
        }
      }, { lake: { root: lake } });
    }));
});
