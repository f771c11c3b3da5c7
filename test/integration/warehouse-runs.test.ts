import { describe, expect, it } from 'vitest';
import { WarehouseError } from '../../src/warehouse/index.js';
import { makeResult, tableCounts, withWarehouse } from './warehouse-fixtures.js';

const newRun = (cacheKey = 'k1') => ({ kind: 'characterization', params: { b: 2, a: 1 }, cacheKey, engineVersion: 'v1', inputs: { base: 'fp0' } });

describe('runs lifecycle', () => {
  it('createRun starts RUNNING at progress 0 and reads back equal', () =>
    withWarehouse(async (w) => {
      const run = await w.createRun(newRun());
      expect(run.status).toBe('RUNNING');
      expect(run.progress).toBe(0);
      const [read] = await w.getRuns([run.id]);
      expect(read).toEqual(run);
    }));

  it('updateRunProgress stores progress and message, and refuses values outside [0, 1]', () =>
    withWarehouse(async (w) => {
      const run = await w.createRun(newRun());
      await w.updateRunProgress(run.id, 0.25, 'layer 3');
      await w.updateRunProgress(run.id, 0.5);
      const [read] = await w.getRuns([run.id]);
      expect(read?.progress).toBe(0.5);
      expect(read?.message).toBe('layer 3');
      await expect(w.updateRunProgress(run.id, 1.5)).rejects.toThrow(/'progress' must be within \[0, 1\], got 1.5/);
      await expect(w.updateRunProgress(run.id, Number.NaN)).rejects.toBeInstanceOf(RangeError);
      await expect(w.updateRunProgress('missing', 0.1)).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    }));

  it('findRunByCacheKey prefers a DONE run, then an active one, never a FAILED one', () =>
    withWarehouse(async (w) => {
      expect(await w.findRunByCacheKey('k1')).toBeUndefined();
      const failed = await w.createRun(newRun());
      await w.failRun(failed.id, 'boom');
      expect(await w.findRunByCacheKey('k1')).toBeUndefined();
      const active = await w.createRun(newRun());
      expect((await w.findRunByCacheKey('k1'))?.id).toBe(active.id);
      const done = await w.createRun(newRun());
      await w.completeRun(done.id, makeResult(1));
      expect((await w.findRunByCacheKey('k1'))?.id).toBe(done.id);
      expect(await w.findRunByCacheKey('other')).toBeUndefined();
    }));

  it('failRun records the error and refuses a run that is not active', () =>
    withWarehouse(async (w) => {
      const run = await w.createRun(newRun());
      await w.failRun(run.id, 'out of memory');
      const [read] = await w.getRuns([run.id]);
      expect(read).toMatchObject({ status: 'FAILED', error: 'out of memory' });
      expect(read?.finishedAt).toBeInstanceOf(Date);
      await expect(w.failRun(run.id, 'again')).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    }));

  it('getRuns answers in request order with undefined for unknown ids, in one statement', () =>
    withWarehouse(async (w) => {
      const a = await w.createRun(newRun('a'));
      const b = await w.createRun(newRun('b'));
      const before = w.statementCount;
      const rows = await w.getRuns([b.id, 'nope', a.id, b.id]);
      expect(w.statementCount - before).toBe(1);
      expect(rows.map((r) => r?.id)).toEqual([b.id, undefined, a.id, b.id]);
    }));

  it('listRuns filters by status, newest first, bounded by first', () => {
    let tick = 0;
    return withWarehouse(
      async (w) => {
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) ids.push((await w.createRun(newRun(`k${i}`))).id);
        await w.failRun(ids[1]!, 'x');
        expect((await w.listRuns({})).map((r) => r.id)).toEqual([...ids].reverse());
        expect((await w.listRuns({ status: 'FAILED' })).map((r) => r.id)).toEqual([ids[1]]);
        expect((await w.listRuns({ status: 'RUNNING', first: 2 })).map((r) => r.id)).toEqual([ids[3], ids[2]]);
        await expect(w.listRuns({ first: 0 })).rejects.toThrow(/'first' must be an integer in \[1, 1000\], got 0/);
      },
      { now: () => new Date(Date.UTC(2025, 0, 1, 0, 0, tick++)) },
    );
  });
});

describe('completeRun is atomic', () => {
  it('stores every row and marks the run DONE with progress 1', () =>
    withWarehouse(async (w) => {
      const run = await w.createRun(newRun());
      const result = makeResult(3);
      await w.completeRun(run.id, result);
      const [read] = await w.getRuns([run.id]);
      expect(read).toMatchObject({ status: 'DONE', progress: 1, error: null });
      expect(read?.finishedAt).toBeInstanceOf(Date);
      expect(await tableCounts(w)).toMatchObject({ tensor_stats: 12, layer_stats: 6, group_stats: 2 });
    }));

  it('a constraint violation (duplicate tensor row) leaves no rows and a FAILED run carrying the error', () =>
    withWarehouse(async (w) => {
      const run = await w.createRun(newRun());
      const result = makeResult(2);
      const duplicated = { ...result, tensors: [...result.tensors, result.tensors[0]!] };
      const error = await w.completeRun(run.id, duplicated).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WarehouseError);
      expect(error).toMatchObject({ code: 'WRITE_FAILED' });
      expect(await tableCounts(w)).toMatchObject({ runs: 1, tensor_stats: 0, layer_stats: 0, group_stats: 0 });
      const [read] = await w.getRuns([run.id]);
      expect(read?.status).toBe('FAILED');
      expect(read?.error).toMatch(/PRIMARY KEY or UNIQUE constraint violation/);
    }));

  it('a CHECK violation in the last table written rolls back the tables written before it', () =>
    withWarehouse(async (w) => {
      const run = await w.createRun(newRun());
      const result = makeResult(2);
      const bad = { ...result, groups: [{ ...result.groups[0]!, grouping: 'nonsense' as 'section' }] };
      await expect(w.completeRun(run.id, bad)).rejects.toMatchObject({ code: 'WRITE_FAILED' });
      expect(await tableCounts(w)).toMatchObject({ tensor_stats: 0, layer_stats: 0, group_stats: 0 });
      expect((await w.getRuns([run.id]))[0]).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/CHECK constraint/i) });
    }));

  it('an error thrown mid-insert (a value of the wrong type) leaves no rows and a FAILED run', () =>
    withWarehouse(async (w) => {
      const run = await w.createRun(newRun());
      const result = makeResult(3);
      const tensors = [...result.tensors];
      tensors[7] = { ...tensors[7]!, froNorm: 'big' as unknown as number };
      await expect(w.completeRun(run.id, { ...result, tensors })).rejects.toThrow(/column 'fro_norm' needs a number/);
      expect(await tableCounts(w)).toMatchObject({ tensor_stats: 0, layer_stats: 0, group_stats: 0 });
      expect((await w.getRuns([run.id]))[0]).toMatchObject({ status: 'FAILED', error: "column 'fro_norm' needs a number, got string" });
    }));

  it('refuses to complete a run twice, leaving the first result intact', () =>
    withWarehouse(async (w) => {
      const run = await w.createRun(newRun());
      await w.completeRun(run.id, makeResult(1));
      await expect(w.completeRun(run.id, makeResult(2))).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
      expect((await w.getRuns([run.id]))[0]?.status).toBe('DONE');
      expect(await tableCounts(w)).toMatchObject({ tensor_stats: 4, layer_stats: 2 });
    }));

  it('refuses an unknown run id without writing anything', () =>
    withWarehouse(async (w) => {
      await expect(w.completeRun('no-such-run', makeResult(1))).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
      expect(await tableCounts(w)).toMatchObject({ runs: 0, tensor_stats: 0 });
    }));

  it('two runs completing concurrently both land, and progress of a third is kept', () =>
    withWarehouse(async (w) => {
      const [a, b, c] = await Promise.all([w.createRun(newRun('a')), w.createRun(newRun('b')), w.createRun(newRun('c'))]);
      await Promise.all([w.completeRun(a.id, makeResult(2)), w.completeRun(b.id, makeResult(3)), w.updateRunProgress(c.id, 0.75)]);
      expect((await w.getRuns([a.id, b.id, c.id])).map((r) => [r?.status, r?.progress])).toEqual([
        ['DONE', 1],
        ['DONE', 1],
        ['RUNNING', 0.75],
      ]);
      expect(await tableCounts(w)).toMatchObject({ tensor_stats: 20, layer_stats: 10 });
    }));
});
