import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lakeRoot, loadConfig } from '../../src/config.js';
import { writePlantedTrio } from '../../src/engine/fixtures/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { REFERENCE_TABLES, RUN_RESULT_TABLES, RUNS_TABLE } from '../../src/warehouse/lake/lakeTables.js';
import { columnTypes, lakeTable, rowTexts, withLakeReader } from '../helpers/lake-reader.js';

let dir: string;
let lake: string;
let server: RunningServer;
let serving = false;

interface SqlAnswer {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  truncated: boolean;
}

/** The analysts' SQL door of the running server: the `sql` field over HTTP. */
async function sql(query: string): Promise<SqlAnswer> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query($q: String!) { sql(query: $q, maxRows: 10000) { columns { name type } rows truncated } }', variables: { q: query } }),
  });
  const body = (await response.json()) as { data?: { sql: SqlAnswer }; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  expect(body.data!.sql.truncated).toBe(false);
  return body.data!.sql;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'frankenscope-lake-server-'));
  lake = join(dir, 'analyst-lake');
  await writePlantedTrio(join(dir, 'models', 'trio'), { dtype: 'BF16' });
  // the demo layout (base/sft/rl) is registered at start as demo/*
  const config = { ...loadConfig({ FRANKENSCOPE_LAKE: lake }), port: 0, warehousePath: join(dir, 'w.duckdb'), modelRoots: [join(dir, 'models')], demoDir: join(dir, 'models', 'trio'), demoProbesDir: join(dir, 'none') };
  server = await startServer(config);
  serving = true;
}, 120_000);

afterAll(async () => {
  if (serving) await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs a characterization of the demo trio to DONE; resolves to its run id. */
async function characterize(topK: number): Promise<string> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ characterization(base: "demo/base", sft: "demo/sft", rl: "demo/rl", options: { topK: ${topK} }, waitSeconds: 120) { status run { id } } }` }),
  });
  const answer = (await response.json()) as { data: { characterization: { status: string; run: { id: string } } } };
  expect(answer.data.characterization.status).toBe('DONE');
  return answer.data.characterization.run.id;
}

describe('the Parquet lake of a running server', () => {
  test("a second DuckDB reads a finished run from the lake while the server holds the warehouse, with the sql field's rows and types", async () => {
    const runId = await characterize(3);
    await server.app.services.warehouse.lakeSettled();

    await withLakeReader(async (reader) => {
      for (const table of [...RUN_RESULT_TABLES, RUNS_TABLE]) {
        const where = ` WHERE ${table === RUNS_TABLE ? 'id' : 'run_id'} = '${runId}'`;
        const inWarehouse = await sql(rowTexts(`SELECT * FROM ${table}${where}`));
        if (inWarehouse.rows.length === 0) {
          // a characterization has no probing results: no file for them
          expect(existsSync(join(lake, table)), table).toBe(false);
          continue;
        }
        expect(await reader.rows(rowTexts(lakeTable(lake, table) + where)), table).toEqual(inWarehouse.rows);
        expect(await reader.rows(columnTypes(lakeTable(lake, table) + where)), table).toEqual((await sql(columnTypes(`SELECT * FROM ${table}`))).rows);
      }
      for (const table of REFERENCE_TABLES) {
        const inWarehouse = await sql(rowTexts(`SELECT * FROM ${table}`));
        if (inWarehouse.rows.length === 0) continue;
        expect(await reader.rows(rowTexts(lakeTable(lake, table))), table).toEqual(inWarehouse.rows);
      }
      // the plain glob of docs/warehouse.md, with the partition column
      const perLayer = await reader.rows(`SELECT kind, count(*) FROM '${lake}/layer_stats/**/*.parquet' WHERE run_id = '${runId}' GROUP BY ALL`);
      const [[layerRows]] = (await sql(`SELECT count(*) FROM layer_stats WHERE run_id = '${runId}'`)).rows as [[number]];
      expect(perLayer).toEqual([['characterization', BigInt(layerRows)]]);
    });
  }, 180_000);

  test('stopping the server waits for the lake writes it queued', async () => {
    const runId = await characterize(5);
    serving = false;
    await server.close();
    expect(existsSync(join(lake, 'runs', `${runId}.parquet`))).toBe(true);
    expect(existsSync(join(lake, 'layer_stats', 'kind=characterization', `${runId}.parquet`))).toBe(true);
    expect(readdirSync(lake, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 180_000);
});

describe('where the lake goes (FRANKENSCOPE_LAKE)', () => {
  test('beside the warehouse by default (one per warehouse file), where FRANKENSCOPE_LAKE says, nowhere when off or for an in-memory warehouse', () => {
    expect(lakeRoot(loadConfig({ FRANKENSCOPE_WAREHOUSE: '/srv/fs/warehouse.duckdb' }))).toBe('/srv/fs/lake');
    expect(lakeRoot(loadConfig({ FRANKENSCOPE_WAREHOUSE: '/srv/fs/w.duckdb' }))).toBe('/srv/fs/w.lake');
    expect(lakeRoot(loadConfig({ FRANKENSCOPE_WAREHOUSE: '/srv/fs/w.duckdb', FRANKENSCOPE_LAKE: '/data/lake2' }))).toBe('/data/lake2');
    expect(lakeRoot(loadConfig({ FRANKENSCOPE_LAKE: 'off' }))).toBeNull();
    expect(lakeRoot(loadConfig({ FRANKENSCOPE_WAREHOUSE: ':memory:' }))).toBeNull();
    expect(lakeRoot(loadConfig({}))).toMatch(/\/data\/lake$/);
  });
});
