import { describe, expect, it } from 'vitest';
import { makeResult, storedRun, trioInputs, withWarehouse } from './warehouse-fixtures.js';
import type { CheckpointRow } from '../../src/warehouse/index.js';

const checkpoint = (id: string, fingerprint = `fp-${id}`): CheckpointRow => ({
  id,
  name: id.toUpperCase(),
  path: `/models/${id}`,
  fingerprint,
  architecture: 'Qwen2_5_VLForConditionalGeneration',
  numLayers: 4,
  numVisionLayers: 2,
  parameterCount: 123_456_789_012,
  dtype: 'bfloat16',
  config: { hidden_size: 64, nested: { rope: [1, 2] } },
});

describe('batched characterization reads', () => {
  it('layerStats for 3 runs is one statement and returns each run its own rows, in request order', () =>
    withWarehouse(async (w) => {
      const runs = [await storedRun(w, { p: 1 }, makeResult(2, 0)), await storedRun(w, { p: 2 }, makeResult(3, 10)), await storedRun(w, { p: 3 }, makeResult(1, 20))];
      const before = w.statementCount;
      const answer = await w.layerStats([runs[2]!.id, 'unknown', runs[0]!.id, runs[1]!.id]);
      expect(w.statementCount - before).toBe(1);
      expect(answer.map((rows) => rows.length)).toEqual([2, 0, 4, 6]);
      // fixture: sft fro norms of layer L are seed + L and seed + L + 0.1
      const layer2Sft = answer[3]!.find((r) => r.layerIndex === 2 && r.phase === 'sft')!;
      expect(layer2Sft.runId).toBe(runs[1]!.id);
      expect(layer2Sft.froNormSum).toBeCloseTo(12 + 12.1, 12);
      expect(layer2Sft.froNorm).toBeCloseTo((12 + 12.1) / 2, 12);
      expect(layer2Sft.singularValues).toEqual([layer2Sft.froNorm, layer2Sft.froNorm / 2]);
      expect(answer[2]!.map((r) => [r.layerIndex, r.phase])).toEqual([
        [1, 'rl'],
        [1, 'sft'],
        [2, 'rl'],
        [2, 'sft'],
      ]);
    }));

  it('groupStats for several runs is one statement', () =>
    withWarehouse(async (w) => {
      const a = await storedRun(w, { p: 1 }, makeResult(2));
      const b = await storedRun(w, { p: 2 }, makeResult(5));
      const before = w.statementCount;
      const [ga, gb] = await w.groupStats([a.id, b.id]);
      expect(w.statementCount - before).toBe(1);
      expect(ga!.map((g) => [g.grouping, g.groupKey, g.phase, g.nTensors])).toEqual([
        ['section', 'llm', 'rl', 4],
        ['section', 'llm', 'sft', 4],
      ]);
      expect(gb![0]!.nTensors).toBe(10);
    }));

  it('empty id lists cost no statement', () =>
    withWarehouse(async (w) => {
      const before = w.statementCount;
      expect(await w.layerStats([])).toEqual([]);
      expect(await w.getCheckpoints([])).toEqual([]);
      expect(w.statementCount).toBe(before);
    }));

  it('tensorStats pages by tensor with a keyset cursor and never splits a tensor across pages', () =>
    withWarehouse(async (w) => {
      const run = await storedRun(w, { p: 1 }, makeResult(3));
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await w.tensorStats({ runId: run.id, first: 2, after });
        if (page.length === 0) break;
        expect(page.length).toBe(4);
        expect(page.map((r) => r.phase)).toEqual(['rl', 'sft', 'rl', 'sft']);
        seen.push(...page.filter((r) => r.phase === 'sft').map((r) => r.tensorName));
        after = page[page.length - 1]!.tensorName;
      }
      const all = makeResult(3).tensors.filter((t) => t.phase === 'sft').map((t) => t.tensorName);
      expect(seen).toEqual([...all].sort());
    }));

  it('tensorStats filters by layer and section', () =>
    withWarehouse(async (w) => {
      const run = await storedRun(w, { p: 1 }, makeResult(3));
      const layer2 = await w.tensorStats({ runId: run.id, layerIndex: 2 });
      expect(new Set(layer2.map((r) => r.layerIndex))).toEqual(new Set([2]));
      expect(layer2.length).toBe(4);
      expect(layer2[0]!.shape).toEqual([4, 8]);
      expect(await w.tensorStats({ runId: run.id, section: 'vision' })).toEqual([]);
      await expect(w.tensorStats({ runId: run.id, first: 5000 })).rejects.toThrow(/'first' must be an integer in \[1, 1000\], got 5000/);
    }));
});

describe('checkpoints, tensors and the fingerprint cache', () => {
  it('upsertCheckpoint inserts, then refreshes while keeping the first registration time', () => {
    let now = Date.UTC(2025, 0, 1);
    return withWarehouse(
      async (w) => {
        await w.upsertCheckpoint(checkpoint('demo/base'));
        now += 60_000;
        await w.upsertCheckpoint({ ...checkpoint('demo/base', 'fp-new'), name: 'Renamed' });
        const [row] = await w.listCheckpoints();
        expect(row).toEqual({ ...checkpoint('demo/base', 'fp-new'), name: 'Renamed', registeredAt: new Date(Date.UTC(2025, 0, 1)) });
      },
      { now: () => new Date(now) },
    );
  });

  it('getCheckpoints is one statement, in request order', () =>
    withWarehouse(async (w) => {
      for (const id of ['demo/base', 'demo/sft', 'demo/rl']) await w.upsertCheckpoint(checkpoint(id));
      const before = w.statementCount;
      const rows = await w.getCheckpoints(['demo/rl', 'x', 'demo/base']);
      expect(w.statementCount - before).toBe(1);
      expect(rows.map((r) => r?.id)).toEqual(['demo/rl', undefined, 'demo/base']);
      expect(rows[0]!.config).toEqual({ hidden_size: 64, nested: { rope: [1, 2] } });
      expect(rows[0]!.parameterCount).toBe(123_456_789_012);
    }));

  it('upsertTensors replaces the list of one fingerprint only', () =>
    withWarehouse(async (w) => {
      const t = (name: string, layerIndex: number | null) => ({ name, dtype: 'F32', shape: [2, 3], layerIndex, section: 'llm' as const, component: 'mlp' as const });
      await w.upsertTensors('fpA', [t('a', 1), t('b', 2)]);
      await w.upsertTensors('fpB', [t('z', null)]);
      await w.upsertTensors('fpA', [t('b', 2), t('c', 3)]);
      expect((await w.tensors('fpA')).map((r) => r.name)).toEqual(['b', 'c']);
      expect(await w.tensors('fpB')).toEqual([t('z', null)]);
    }));

  it('fingerprintCache gets what was set, and overwrites', () =>
    withWarehouse(async (w) => {
      const cache = w.fingerprintCache();
      expect(await cache.get('/m/a.safetensors:10:99')).toBeUndefined();
      await cache.set('/m/a.safetensors:10:99', 'abc');
      await cache.set('/m/a.safetensors:10:99', 'def');
      expect(await cache.get('/m/a.safetensors:10:99')).toBe('def');
    }));
});

describe('views', () => {
  it('layer_profile has DONE runs only; latest_characterization keeps the newest run per params and checkpoints', () => {
    let tick = 0;
    return withWarehouse(
      async (w) => {
        const oldA = await storedRun(w, { pair: 'A' }, makeResult(2, 0));
        const newA = await storedRun(w, { pair: 'A' }, makeResult(2, 100));
        const b = await storedRun(w, { pair: 'B' }, makeResult(1, 50));
        const otherTrio = await storedRun(w, { pair: 'A' }, makeResult(1, 200), trioInputs(['x/base', 'x/sft', 'x/rl']));
        await w.createRun({ kind: 'characterization', params: { pair: 'C' }, cacheKey: 'c', engineVersion: 't', inputs: trioInputs() });
        const profile = await w.readOnlySql('SELECT DISTINCT run_id FROM layer_profile ORDER BY run_id');
        expect(profile.rows.map((r) => r[0])).toEqual([oldA.id, newA.id, b.id, otherTrio.id].sort());
        const latest = await w.readOnlySql(
          "SELECT run_id, layer_index, fro_norm_sum, checkpoint_ids FROM latest_characterization WHERE phase = 'sft' ORDER BY run_id, layer_index",
        );
        // fixture: sft fro norms of layer L are seed + L and seed + L + 0.1
        const expected: [string, number, number, string[]][] = [
          [newA.id, 1, 101 + 101.1, ['demo/base', 'demo/sft', 'demo/rl']],
          [newA.id, 2, 102 + 102.1, ['demo/base', 'demo/sft', 'demo/rl']],
          [b.id, 1, 51 + 51.1, ['demo/base', 'demo/sft', 'demo/rl']],
          [otherTrio.id, 1, 201 + 201.1, ['x/base', 'x/sft', 'x/rl']],
        ];
        expected.sort((x, y) => x[0].localeCompare(y[0]) || x[1] - y[1]);
        expect(latest.rows.map((r) => [r[0], r[1], r[3]])).toEqual(expected.map((r) => [r[0], r[1], r[3]]));
        latest.rows.forEach((r, i) => expect(r[2]).toBeCloseTo(expected[i]![2], 10));
      },
      { now: () => new Date(Date.UTC(2025, 0, 1, 0, 0, tick++)) },
    );
  });
});
