import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/warehouse/duckdbBinding.js';
import { firstWords, splitStatements } from '../../src/warehouse/sqlLexer.js';

/** Texts whose statement boundaries depend on quoting and comments; DuckDB's own parser is the oracle. */
const TRICKY = [
  'SELECT 1',
  'SELECT 1;',
  'SELECT 1;;',
  'SELECT 1; SELECT 2',
  "SELECT ';'",
  "SELECT 'it''s; fine'",
  "SELECT 'a\\'; SELECT 2; --'",
  "SELECT E'\\'; SELECT 2; --'",
  "SELECT e'\\\\'; SELECT 2",
  "SELECT DATE'2024-01-01'; SELECT 2",
  'SELECT 1 AS "a;""b"',
  'SELECT $$;$$',
  'SELECT $$--$$; SELECT 2',
  "SELECT $t$ $$ ; ' $t$; SELECT 2",
  "SELECT $q$'$q$; SELECT 2; --'",
  'SELECT 1 -- ; SELECT 2',
  'SELECT 1 -- c\n; SELECT 2',
  'SELECT 1 /* ; */',
  'SELECT 1 /* /* */ ; SELECT 2 */',
  'SELECT 1 /* /* */ */ ; SELECT 2',
  '/* lead */ SELECT 1; /* tail */',
];

describe('sqlLexer agrees with DuckDB on statement boundaries', () => {
  it.each(TRICKY)('%j', async (sql) => {
    const db = await openDatabase(':memory:', { readOnly: false });
    try {
      const connection = await db.connect(() => undefined);
      try {
        const duckdb = (await connection.statementTypes(sql)).length;
        expect(splitStatements(sql).length).toBe(duckdb);
      } finally {
        connection.closeSync();
      }
    } finally {
      db.closeSync();
    }
  });

  it('firstWords skips comments and parentheses and upper-cases', () => {
    expect(firstWords('/* x */ -- y\n ((select * from t', 2).map((w) => w.word)).toEqual(['SELECT']);
    expect(firstWords('explain analyze delete', 2).map((w) => w.word)).toEqual(['EXPLAIN', 'ANALYZE']);
  });
});
