import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, Warehouse, WarehouseError } from '../../src/warehouse/index.js';
import { GROUP_STATS_COLUMNS, LAYER_STATS_COLUMNS, TENSOR_COLUMNS, TENSOR_STATS_COLUMNS } from '../../src/warehouse/columnSpecs.js';
import { makeResult, storedRun, tableCounts, withFileWarehouse, withTempDir, withWarehouse } from './warehouse-fixtures.js';

const WAREHOUSE_INDEX = fileURLToPath(new URL('../../src/warehouse/index.ts', import.meta.url));

describe('migrations', () => {
  it('are applied once: reopening a file changes neither the ledger nor the data', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'w.duckdb');
      const runId = await withFileWarehouse(path, async (w) => (await storedRun(w, { p: 1 }, makeResult(2))).id);
      await withFileWarehouse(path, async (w) => {
        const ledger = await w.readOnlySql('SELECT version, name FROM schema_migrations ORDER BY version');
        expect(ledger.rows.map((r) => r[0])).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
        expect(await tableCounts(w)).toMatchObject({ runs: 1, tensor_stats: 8, layer_stats: 4 });
        expect((await w.getRuns([runId]))[0]?.status).toBe('DONE');
      });
    }));

  it('create tables whose column order matches the appender specs', () =>
    withWarehouse(async (w) => {
      const specs = { tensors: TENSOR_COLUMNS, tensor_stats: TENSOR_STATS_COLUMNS, layer_stats: LAYER_STATS_COLUMNS, group_stats: GROUP_STATS_COLUMNS };
      for (const [table, columns] of Object.entries(specs)) {
        const described = await w.readOnlySql(`DESCRIBE ${table}`);
        expect(described.rows.map((r) => r[0]), table).toEqual(columns.map((c) => c.name));
        const types = described.rows.map((r) => String(r[1]));
        const expected = columns.map((c) => (c.kind === 'JSON' ? 'JSON' : c.kind));
        expect(types, table).toEqual(expected);
      }
    }));
});

describe('opening', () => {
  it('marks runs a dead process left RUNNING as FAILED, interrupted', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'w.duckdb');
      const { running, done } = await withFileWarehouse(path, async (w) => ({
        running: (await w.createRun({ kind: 'characterization', params: {}, cacheKey: 'a', engineVersion: 'v', inputs: {} })).id,
        done: (await storedRun(w, { p: 1 }, makeResult(1))).id,
      }));
      await withFileWarehouse(path, async (w) => {
        const [r, d] = await w.getRuns([running, done]);
        expect(r).toMatchObject({ status: 'FAILED', error: 'interrupted: server stopped' });
        expect(d?.status).toBe('DONE');
      });
    }));

  it('still writes after file access was locked down, and the data survives reopening', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'w.duckdb');
      await withFileWarehouse(path, async (w) => {
        await storedRun(w, { p: 1 }, makeResult(50));
        await w.fingerprintCache().set('k', 'v');
      });
      await withFileWarehouse(path, async (w) => {
        expect(await tableCounts(w)).toMatchObject({ tensor_stats: 200, layer_stats: 100 });
        expect(await w.fingerprintCache().get('k')).toBe('v');
      });
    }));

  it('read-only: reads work, writes throw READ_ONLY, and interrupted runs are left alone', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'w.duckdb');
      const runId = await withFileWarehouse(path, async (w) => {
        await storedRun(w, { p: 1 }, makeResult(2));
        return (await w.createRun({ kind: 'k', params: {}, cacheKey: 'a', engineVersion: 'v', inputs: {} })).id;
      });
      // the RUNNING run was just left by a "dead" process; a reader must not touch it
      await withFileWarehouse(
        path,
        async (w) => {
          expect(await tableCounts(w)).toMatchObject({ runs: 2, layer_stats: 4 });
          expect((await w.getRuns([runId]))[0]?.status).toBe('RUNNING');
          await expect(w.createRun({ kind: 'k', params: {}, cacheKey: 'b', engineVersion: 'v', inputs: {} })).rejects.toMatchObject({ code: 'READ_ONLY' });
          await expect(w.failRun(runId, 'x')).rejects.toBeInstanceOf(WarehouseError);
        },
        { readOnly: true },
      );
    }));

  it('read-only open of a missing file fails with WAREHOUSE_OPEN_FAILED naming the path', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'missing.duckdb');
      await expect(Warehouse.open(path, { readOnly: true })).rejects.toMatchObject({
        code: 'WAREHOUSE_OPEN_FAILED',
        message: expect.stringContaining(path),
      });
    }));

  it('a file held by another process gives WAREHOUSE_LOCKED with a clear message', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'held.duckdb');
      // .mts: top-level await needs ESM, and the temp dir has no package.json saying so
      const script = join(dir, 'holder.mts');
      writeFileSync(
        script,
        `import { Warehouse } from ${JSON.stringify(pathToFileURL(WAREHOUSE_INDEX).href)};
const w = await Warehouse.open(${JSON.stringify(path)});
process.stdout.write('READY\\n');
process.stdin.resume();
process.stdin.on('end', () => { w.closeSync(); process.exit(0); });
`,
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'], cwd: process.cwd() });
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (data: Buffer) => data.toString().includes('READY') && resolve());
          child.on('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
        });
        for (const readOnly of [false, true]) {
          const error = await Warehouse.open(path, { readOnly }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(WarehouseError);
          expect(error).toMatchObject({ code: 'WAREHOUSE_LOCKED' });
          expect((error as Error).message).toContain(path);
          expect((error as Error).message).toMatch(/in use by another process \(.*PID \d+\)/);
        }
      } finally {
        child.stdin.end();
        await new Promise((resolve) => (child.exitCode === null ? child.on('exit', resolve) : resolve(undefined)));
      }
      // once the holder is gone the file opens again
      await withFileWarehouse(path, async (w) => expect((await w.listRuns({})).length).toBe(0));
    }));
});
