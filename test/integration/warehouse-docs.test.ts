import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitStatements } from '../../src/warehouse/sqlLexer.js';
import { makeResult, storedRun, withWarehouse } from './warehouse-fixtures.js';

const DOC = readFileSync(new URL('../../docs/warehouse.md', import.meta.url), 'utf8');
const QUERIES = [...DOC.matchAll(/```sql\n([\s\S]*?)```/g)].flatMap((m) => splitStatements(m[1]!)).map((q) => q.trim());

describe('docs/warehouse.md', () => {
  it('has example queries', () => expect(QUERIES.length).toBeGreaterThan(5));

  it.each(QUERIES)('example runs through the SQL door: %s', (query) =>
    withWarehouse(async (w) => {
      const run = await storedRun(w, { topK: 8 }, makeResult(3));
      const answer = await w.readOnlySql(query.replace("'...'", `'${run.id}'`));
      expect(answer.columns.length).toBeGreaterThan(0);
    }),
  );

  it('the per-layer plot query returns the stored layers', () =>
    withWarehouse(async (w) => {
      await storedRun(w, { topK: 8 }, makeResult(3));
      const plot = QUERIES.find((q) => q.includes('FROM latest_characterization') && q.includes('checkpoint_ids'))!;
      const answer = await w.readOnlySql(plot);
      expect(answer.rows.map((r) => [r[0], r[1]])).toEqual([1, 2, 3].flatMap((l) => [[l, 'rl'], [l, 'sft']]));
    }));
});
