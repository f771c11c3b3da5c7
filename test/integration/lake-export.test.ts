import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { REFERENCE_TABLES, RUN_RESULT_TABLES, RUNS_TABLE } from '../../src/warehouse/lake/lakeTables.js';
import { Warehouse } from '../../src/warehouse/index.js';
import { columnTypes, lakeTable, rowTexts, withLakeReader } from '../helpers/lake-reader.js';
import { makeResult, storedRun, withFileWarehouse } from './warehouse-fixtures.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/frankenscope.js', import.meta.url).pathname;
let dir: string;
let warehousePath: string;
let runIds: { done: string[]; failed: string };

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [BIN, ...args], { env: { ...process.env, FRANKENSCOPE_WAREHOUSE: warehousePath, FRANKENSCOPE_LAKE: 'off', ...env }, timeout: 120_000 });
const refusal = (args: string[], env?: NodeJS.ProcessEnv) => cli(args, env).then(() => expect.unreachable('the export should have been refused'), (e: { code: number; stderr: string }) => e);

/** What sits beside an export target: an export leaves nothing of its own there but the target. */
const siblings = (parent: string): string[] => readdirSync(parent).sort();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'frankenscope-export-'));
  warehousePath = join(dir, 'w.duckdb');
  // a warehouse written without a lake: two DONE runs and one that failed
  runIds = await withFileWarehouse(warehousePath, async (w) => {
    const done = [(await storedRun(w, { topK: 2 }, makeResult(3))).id, (await storedRun(w, { topK: 3 }, makeResult(2, 1))).id];
    await w.registerCheckpoint(
      { id: 'demo/base', name: 'base', path: '/m/base', fingerprint: 'fp-base', architecture: 'Qwen2ForCausalLM', numLayers: 2, numVisionLayers: 0, parameterCount: 64, dtype: 'F32', config: {} },
      [{ name: 'lm_head.weight', dtype: 'F32', shape: [8, 8], layerIndex: null, section: 'other', component: 'other' }],
    );
    const failed = await w.createRun({ kind: 'characterization', params: { topK: 9 }, cacheKey: 'k-failed', engineVersion: 'test', inputs: [] });
    await w.failRun(failed.id, 'out of memory');
    return { done, failed: failed.id };
  });
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('frankenscope export --parquet', () => {
  test('writes every table of every run and the reference tables, printing progress; rows and types are the warehouse\'s', async () => {
    const target = join(dir, 'exports', 'all');
    const { stdout } = await cli(['export', '--parquet', target]);
    expect(stdout).toMatch(/run 1\/3 .*\n.*run 2\/3 .*\n.*run 3\/3 /);
    expect(stdout).toContain(`to ${target}`);
    expect(siblings(join(dir, 'exports'))).toEqual(['all']);
    const w = await Warehouse.open(warehousePath, { readOnly: true });
    try {
      await withLakeReader(async (reader) => {
        for (const table of [...RUN_RESULT_TABLES, RUNS_TABLE, ...REFERENCE_TABLES]) {
          const inWarehouse = await w.readOnlySql(rowTexts(`SELECT * FROM ${table}`), { maxRows: 10_000 });
          if (inWarehouse.rows.length === 0) {
            expect(existsSync(join(target, table)), table).toBe(false);
            continue;
          }
          expect(await reader.rows(rowTexts(lakeTable(target, table))), table).toEqual(inWarehouse.rows);
          expect(await reader.rows(columnTypes(lakeTable(target, table))), table).toEqual((await w.readOnlySql(columnTypes(`SELECT * FROM ${table}`))).rows);
        }
        // the failed run is there with its status and error, and has no results
        expect(await reader.rows(`SELECT status, error FROM '${target}/runs/**/*.parquet' WHERE id = '${runIds.failed}'`)).toEqual([['FAILED', 'out of memory']]);
        expect(await reader.rows(`SELECT count(DISTINCT run_id) FROM '${target}/layer_stats/**/*.parquet'`)).toEqual([[2n]]);
      });
    } finally {
      w.closeSync();
    }
  }, 120_000);

  test('an existing empty folder is filled', async () => {
    const target = join(dir, 'empty');
    mkdirSync(target);
    await cli(['export', '--parquet', target]);
    expect(readdirSync(target)).toContain('runs');
  }, 120_000);

  test('a folder that is not empty, or a file, is refused with EXPORT_TARGET_NOT_EMPTY and left as it was', async () => {
    const full = join(dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'notes.txt'), 'mine');
    const error = await refusal(['export', '--parquet', full]);
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/EXPORT_TARGET_NOT_EMPTY: '.*full' is not empty/);
    expect(error.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(full)).toEqual(['notes.txt']);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect((await refusal(['export', '--parquet', file])).stderr).toMatch(/EXPORT_TARGET_NOT_EMPTY: '.*a-file' exists and is not a folder/);
    expect(siblings(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  }, 120_000);

  test("while a server holds the warehouse it is refused with WAREHOUSE_LOCKED, pointing to the server's lake", async () => {
    const lake = join(dir, 'server-lake');
    const server = await startServer({ ...loadConfig({ FRANKENSCOPE_LAKE: lake }), port: 0, warehousePath, modelRoots: [dir], demoDir: join(dir, 'none'), demoProbesDir: join(dir, 'none') });
    try {
      // the server's start writes the runs that finished before its lake existed
      await server.app.services.warehouse.lakeSettled();
      const target = join(dir, 'while-serving');
      const error = await refusal(['export', '--parquet', target], { FRANKENSCOPE_LAKE: lake });
      expect(error.code).toBe(1);
      expect(error.stderr).toMatch(/WAREHOUSE_LOCKED: .*running server holds/);
      expect(error.stderr).toContain(lake);
      expect(existsSync(target)).toBe(false);
      await withLakeReader(async (reader) => {
        expect((await reader.rows(`SELECT id FROM '${lake}/runs/**/*.parquet' ORDER BY id`)).flat()).toEqual([...runIds.done].sort());
      });
    } finally {
      await server.close();
    }
  }, 120_000);
});
