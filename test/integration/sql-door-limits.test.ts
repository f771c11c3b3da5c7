import { describe, expect, it } from 'vitest';
import { WarehouseError } from '../../src/warehouse/index.js';
import { makeResult, storedRun, withWarehouse } from './warehouse-fixtures.js';

describe('SQL door: what it lets through', () => {
  it.each([
    ['DESCRIBE runs', 'column_name'],
    ['SHOW TABLES', 'name'],
    ['SHOW runs', 'column_name'],
    ['SUMMARIZE runs', 'column_name'],
    ['EXPLAIN SELECT count(*) FROM runs', 'explain_key'],
    ['FROM runs SELECT id', 'id'],
    ['VALUES (1)', 'col0'],
    ['(SELECT 1 AS one)', 'one'],
    ['/* why */ -- how\n  WITH t AS (SELECT 2 AS two) SELECT * FROM t;', 'two'],
    ["SELECT ';' AS semi -- ; drop table runs", 'semi'],
    ['SELECT 1 AS "a;b"', 'a;b'],
    ["SELECT E'\\'; DROP TABLE runs; --' AS escaped", 'escaped'],
    ['SELECT $$; DROP TABLE runs$$ AS dollar', 'dollar'],
    ['SELECT 1 AS nested /* /* */ ; DROP TABLE runs */', 'nested'],
    ['SELECT * FROM range(3)', 'range'],
    ['SELECT * FROM duckdb_tables()', 'database_name'],
  ])('runs %j', (query, firstColumn) =>
    withWarehouse(async (w) => {
      const answer = await w.readOnlySql(query);
      expect(answer.columns[0]?.name).toBe(firstColumn);
    }),
  );

  it('answers the per-layer question of the brief in one SELECT', () =>
    withWarehouse(async (w) => {
      await storedRun(w, { p: 1 }, makeResult(3, 0));
      const answer = await w.readOnlySql("SELECT layer_index, avg(fro_norm) AS fro FROM tensor_stats WHERE phase = 'rl' GROUP BY 1 ORDER BY 1");
      expect(answer.columns).toEqual([
        { name: 'layer_index', type: 'INTEGER' },
        { name: 'fro', type: 'DOUBLE' },
      ]);
      // fixture: rl fro norms of layer L are 2L and 2(L + 0.1); their mean is 2L + 0.1
      expect(answer.rows.map((r) => r[0])).toEqual([1, 2, 3]);
      answer.rows.forEach((r) => expect(r[1]).toBeCloseTo(2 * (r[0] as number) + 0.1, 12));
    }));

  it('returns JSON-safe values', () =>
    withWarehouse(async (w) => {
      const answer = await w.readOnlySql(`SELECT
        42::BIGINT AS small_big, 9007199254740993::BIGINT AS huge_big, 170141183460469231731687303715884105727::HUGEINT AS huge,
        1.25::DECIMAL(10, 2) AS dec, 'NaN'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, TIMESTAMP '2024-05-06 07:08:09.5' AS ts,
        DATE '2024-05-06' AS d, [1, 2, 3]::INTEGER[] AS list, {'k': 1::BIGINT, 'l': [0.5]} AS struct, NULL AS nothing,
        count(*) AS n, uuid() IS NOT NULL AS flag`);
      const row = Object.fromEntries(answer.columns.map((c, i) => [c.name, answer.rows[0]![i]]));
      expect(row).toEqual({
        small_big: 42,
        huge_big: '9007199254740993',
        huge: '170141183460469231731687303715884105727',
        dec: 1.25,
        nan: 'NaN',
        inf: 'Infinity',
        ts: '2024-05-06T07:08:09.500Z',
        d: '2024-05-06',
        list: [1, 2, 3],
        struct: { k: 1, l: [0.5] },
        nothing: null,
        n: 1,
        flag: true,
      });
      expect(JSON.parse(JSON.stringify(answer.rows))).toEqual(answer.rows);
    }));

  it('reports DuckDB errors as SQL_ERROR with the message', () =>
    withWarehouse(async (w) => {
      const error = await w.readOnlySql('SELECT no_such_column FROM runs').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WarehouseError);
      expect(error).toMatchObject({ code: 'SQL_ERROR', message: expect.stringMatching(/no_such_column/) });
    }));
});

describe('SQL door: limits', () => {
  it('stops at maxRows and says so', () =>
    withWarehouse(async (w) => {
      const cut = await w.readOnlySql('SELECT * FROM range(5000) ORDER BY 1', { maxRows: 100 });
      expect(cut.truncated).toBe(true);
      expect(cut.rows.map((r) => r[0])).toEqual(Array.from({ length: 100 }, (_, i) => i));
      const exact = await w.readOnlySql('SELECT * FROM range(100)', { maxRows: 100 });
      expect(exact).toMatchObject({ truncated: false });
      expect(exact.rows.length).toBe(100);
    }));

  it('defaults to 1000 rows and caps any request at 10000', () =>
    withWarehouse(async (w) => {
      const byDefault = await w.readOnlySql('SELECT * FROM range(50000)');
      expect([byDefault.rows.length, byDefault.truncated]).toEqual([1000, true]);
      const capped = await w.readOnlySql('SELECT * FROM range(50000)', { maxRows: 1_000_000 });
      expect([capped.rows.length, capped.truncated]).toEqual([10_000, true]);
      await expect(w.readOnlySql('SELECT 1', { maxRows: 0 })).rejects.toThrow(/'maxRows' must be a positive integer, got 0/);
    }));

  it('interrupts a query that runs past timeoutMs, and the next query works', () =>
    withWarehouse(async (w) => {
      const error = await w
        .readOnlySql('SELECT count(*) FROM range(1000000000) a, range(1000000000) b', { timeoutMs: 200 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WarehouseError);
      expect(error).toMatchObject({ code: 'SQL_TIMEOUT', message: expect.stringContaining('timeoutMs=200') });
      expect((await w.readOnlySql('SELECT 42 AS answer')).rows).toEqual([[42]]);
      // the owner's connection was never involved
      await storedRun(w, { p: 1 }, makeResult(1));
      expect((await w.readOnlySql('SELECT count(*) FROM layer_stats')).rows).toEqual([[2]]);
    }));
});
