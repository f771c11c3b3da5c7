import { describe, expect, it } from 'vitest';
import { WarehouseError } from '../../src/warehouse/index.js';
import { openDatabase } from '../../src/warehouse/duckdbBinding.js';
import { makeResult, storedRun, tableCounts, withWarehouse } from './warehouse-fixtures.js';

/** [query, what the refusal message must name] */
const REFUSED: [string, RegExp][] = [
  ['SELECT 1; DROP TABLE runs', /exactly one statement.*found 2/],
  ['select 1;\n/* trailing */ delete from runs;', /exactly one statement/],
  ['DROP TABLE runs', /'DROP' statements are not allowed/],
  ['/* hidden */ -- comment\n drop table runs', /'DROP'/],
  ["INSERT INTO fingerprint_cache VALUES ('a', 'b')", /'INSERT'/],
  ["UPDATE runs SET status = 'DONE'", /'UPDATE'/],
  ['DELETE FROM layer_stats', /'DELETE'/],
  ['(DELETE FROM layer_stats)', /'DELETE'/],
  ['CREATE TABLE evil (a INT)', /'CREATE'/],
  ['CREATE MACRO m(x) AS x', /'CREATE'/],
  ['ALTER TABLE runs ADD COLUMN x INT', /'ALTER'/],
  ["COPY runs TO '/tmp/frankenscope-door.csv'", /'COPY'/],
  ["ATTACH '/tmp/frankenscope-door.duckdb' AS other", /'ATTACH'/],
  ['DETACH other', /'DETACH'/],
  ['INSTALL httpfs', /'INSTALL'/],
  ['LOAD httpfs', /'LOAD'/],
  ['SET enable_external_access = true', /'SET'/],
  ['RESET threads', /'RESET'/],
  ['PRAGMA show_tables', /'PRAGMA'/],
  ["EXPORT DATABASE '/tmp/frankenscope-export'", /'EXPORT'/],
  ["IMPORT DATABASE '/tmp/frankenscope-export'", /'IMPORT'/],
  ['CALL pragma_version()', /'CALL'/],
  ['CHECKPOINT', /'CHECKPOINT'/],
  ['BEGIN TRANSACTION', /'BEGIN'/],
  ['VACUUM', /'VACUUM'/],
  ["SELECT * FROM read_csv('/etc/passwd')", /table function 'read_csv'/],
  ["SELECT * FROM read_csv_auto('/etc/passwd')", /table function 'read_csv_auto'/],
  ["SELECT content FROM read_text('/etc/passwd')", /table function 'read_text'/],
  ["SELECT * FROM read_blob('/etc/passwd')", /table function 'read_blob'/],
  ["SELECT * FROM read_json('/etc/x.json')", /table function 'read_json'/],
  ["SELECT * FROM read_parquet('/tmp/x.parquet')", /table function 'read_parquet'/],
  ["SELECT * FROM parquet_scan('/tmp/x.parquet')", /table function 'parquet_scan'/],
  ["SELECT * FROM sniff_csv('/etc/passwd')", /table function 'sniff_csv'/],
  ["SELECT * FROM glob('/*')", /table function 'glob'/],
  ["SELECT * FROM '/etc/passwd'", /'\/etc\/passwd' looks like a file/],
  ["SELECT * FROM 'data.csv'", /'data.csv' looks like a file/],
  ["DESCRIBE '/etc/passwd'", /looks like a file/],
  ["SELECT getenv('HOME')", /function 'getenv'/],
  ["SELECT * FROM query('SELECT 1')", /table function 'query'/],
  ['SELECT * FROM checkpoint()', /table function 'checkpoint'/],
  ['SELECT * FROM enable_logging()', /table function 'enable_logging'/],
  ['SELECT setseed(0.5)', /function 'setseed'/],
  // hidden inside CTEs, subqueries and SUMMARIZE
  ["WITH x AS (SELECT * FROM read_csv('/etc/passwd')) SELECT * FROM x", /table function 'read_csv'/],
  ["SELECT * FROM runs WHERE id IN (SELECT content FROM read_text('/etc/hostname'))", /table function 'read_text'/],
  ["SUMMARIZE SELECT * FROM read_csv('/etc/passwd')", /table function 'read_csv'/],
  ["SELECT (SELECT getenv('PATH'))", /function 'getenv'/],
  // EXPLAIN only of a read, never ANALYZE (it executes)
  ['EXPLAIN ANALYZE DELETE FROM runs', /EXPLAIN ANALYZE is not allowed/],
  ['EXPLAIN ANALYZE SELECT 1', /EXPLAIN ANALYZE is not allowed/],
  ['EXPLAIN DELETE FROM runs', /EXPLAIN is only allowed of a read/],
  ["EXPLAIN SELECT * FROM read_csv('/etc/passwd')", /table function 'read_csv'/],
  // writes behind a read keyword are caught by DuckDB's statement type
  ['WITH x AS (SELECT 1) DELETE FROM runs', /DELETE statements are not allowed/],
  ["WITH x AS (SELECT 1) INSERT INTO fingerprint_cache VALUES ('a', 'b')", /INSERT statements are not allowed/],
  // quoting that could hide a second statement from a naive lexer
  ["SELECT 'a\\'; DROP TABLE runs; --'", /exactly one statement/],
  ["SELECT $$--$$; DROP TABLE runs", /exactly one statement/],
  ["SELECT $q$'$q$; DROP TABLE runs; --'", /exactly one statement/],
  ["SELECT E'\\''; DROP TABLE runs; --'", /exactly one statement/],
  ['', /query is empty/],
  ['  -- just a comment', /query is empty/],
];

describe('SQL door refusals', () => {
  it.each(REFUSED)('refuses %j', (query, message) =>
    withWarehouse(async (w) => {
      const error = await w.readOnlySql(query).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WarehouseError);
      expect(error).toMatchObject({ code: 'SQL_REFUSED' });
      expect((error as Error).message).toMatch(message);
    }),
  );

  it('leaves every table as it was after all the refusals', () =>
    withWarehouse(async (w) => {
      await storedRun(w, { p: 1 }, makeResult(2));
      await w.fingerprintCache().set('key', 'fp');
      const before = await tableCounts(w);
      for (const [query] of REFUSED) await expect(w.readOnlySql(query)).rejects.toMatchObject({ code: 'SQL_REFUSED' });
      expect(await tableCounts(w)).toEqual(before);
      expect(await w.fingerprintCache().get('key')).toBe('fp');
      const statuses = await w.readOnlySql('SELECT DISTINCT status FROM runs');
      expect(statuses.rows).toEqual([['DONE']]);
    }));

  it('refuses a query over the length limit', () =>
    withWarehouse(async (w) => {
      await expect(w.readOnlySql(`SELECT 1 ${' '.repeat(100_001)}`)).rejects.toThrow(/characters; the limit is 100000/);
    }));
});

describe('under the door: the instance itself has no file access', () => {
  it('even a plain connection cannot COPY out, read files, load extensions or switch access back on', async () => {
    const db = await openDatabase(':memory:', { readOnly: false });
    try {
      const connection = await db.connect(() => undefined);
      try {
        await connection.run('CREATE TABLE t (a INTEGER)');
        await expect(connection.run("COPY t TO '/tmp/frankenscope-owner.csv'")).rejects.toThrow(/file system operations are disabled/);
        await expect(connection.run("SELECT * FROM read_text('/etc/passwd')")).rejects.toThrow(/file system operations are disabled/);
        await expect(connection.run('LOAD httpfs')).rejects.toThrow(/disabled/);
        await expect(connection.run('SET enable_external_access = true')).rejects.toThrow(/configuration has been locked/);
        // and ordinary writes still work
        expect(await connection.run('INSERT INTO t VALUES (1), (2)')).toBe(2);
      } finally {
        connection.closeSync();
      }
    } finally {
      db.closeSync();
    }
  });
});
