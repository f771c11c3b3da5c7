import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/warehouse/duckdbBinding.js';
import { quoteIdentifier } from '../../src/warehouse/quoteIdentifier.js';

describe('quoteIdentifier', () => {
  it('doubles embedded quotes', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
  });

  it('makes DuckDB see exactly the given name, however odd', async () => {
    const db = await openDatabase(':memory:', { readOnly: false });
    try {
      const connection = await db.connect(() => undefined);
      try {
        const names = ['plain', 'with space', 'semi;colon', 'quo"te', "apo'strophe", 'select', 'x"; DROP TABLE t; --'];
        for (const name of names) await connection.run(`CREATE TABLE ${quoteIdentifier(name)} (${quoteIdentifier(name)} INTEGER)`);
        const tables = await connection.all('SELECT table_name FROM duckdb_tables() ORDER BY table_name');
        expect(tables.map((t) => t.table_name)).toEqual([...names].sort());
      } finally {
        connection.closeSync();
      }
    } finally {
      db.closeSync();
    }
  });

  it('refuses an empty name or a NUL character', () => {
    expect(() => quoteIdentifier('')).toThrow(/'name' is empty/);
    expect(() => quoteIdentifier('a\u0000b')).toThrow(/NUL/);
  });
});
