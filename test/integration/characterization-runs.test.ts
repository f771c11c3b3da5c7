import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ENGINE_VERSION } from '../../src/engine/version.js';
import { CharacterizationService } from '../../src/services/characterization-service.js';
import { RunManager } from '../../src/services/run-manager.js';
import type { UnitExecutor } from '../../src/services/units/unit-executor.js';
import { createTestApp, registerPlantedTrio, type TestApp } from '../helpers/test-app.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await registerPlantedTrio(t);
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const trioArgs = 'base: "planted/base", sft: "planted/sft", rl: "planted/rl"';

async function characterizationRuns(): Promise<{ id: string; status: string; params: { topK: number; weightFilter: string | null } }[]> {
  const r = await t.execute<{ runs: { id: string; kind: string; status: string; params: never }[] }>('{ runs(first: 1000) { id kind status params } }');
  return r.data!.runs.filter((x) => x.kind === 'characterization');
}

describe('runs: caching, single flight, batching', () => {
  test('concurrent identical requests compute once and all get the result', async () => {
    const q = `{ characterization(${trioArgs}, options: { topK: 3 }, waitSeconds: 120) { status run { id } } }`;
    const answers = await Promise.all([t.execute<any>(q), t.execute<any>(q), t.execute<any>(q)]);
    const ids = answers.map((a) => a.data.characterization.run.id);
    expect(new Set(ids).size).toBe(1);
    expect(answers.every((a) => a.data.characterization.status === 'DONE')).toBe(true);
    expect((await characterizationRuns()).filter((r) => r.params.topK === 3)).toHaveLength(1);
  });

  test('a second identical query is answered from the warehouse without recomputation', async () => {
    const q = `{ characterization(${trioArgs}, options: { topK: 4, weightFilter: "down_proj" }, waitSeconds: 120) { status run { id finishedAt } tensors { name } } }`;
    const first = await t.execute<any>(q);
    const before = t.app.services.warehouse.statementCount;
    const second = await t.execute<any>(q);
    expect(second.data.characterization.run).toEqual(first.data.characterization.run);
    expect(second.data.characterization.tensors.every((x: { name: string }) => x.name.includes('down_proj'))).toBe(true);
    expect((await characterizationRuns()).filter((r) => r.params.weightFilter === 'down_proj')).toHaveLength(1);
    // no run was created or written: the cached answer only reads
    const writes = await t.app.services.warehouse.readOnlySql("SELECT count(*) FROM runs WHERE params->>'weightFilter' = 'down_proj'");
    expect(writes.rows[0]![0]).toBe(1);
    expect(t.app.services.warehouse.statementCount - before).toBeLessThan(20);
  });

  test('all layers, groups and tensors of a characterization cost a bounded number of SQL statements', async () => {
    const stats = 'froNorm relativeNorm spectralNorm nuclearNorm stableRank effectiveRank conditionNumber logVolume singularValues froNormSum';
    const small = `{ characterization(${trioArgs}, waitSeconds: 120) { status } }`;
    const everything = `{ characterization(${trioArgs}, waitSeconds: 120) {
      status progress run { id status }
      layers { index region sft { ${stats} } rl { ${stats} } cosine subspaceOverlap }
      sections { key sft { froNorm } rl { froNorm } } regions { key rl { froNorm } } components { key rl { froNorm } }
      tensors(first: 1000) { name sft { ${stats} } rl { ${stats} } }
    } }`;
    await t.execute(small); // computes
    const w = t.app.services.warehouse;
    let n = w.statementCount;
    await t.execute(small);
    const smallCost = w.statementCount - n;
    n = w.statementCount;
    const r = await t.execute<any>(everything);
    const bigCost = w.statementCount - n;
    expect(r.data.characterization.layers.length).toBe(16);
    expect(r.data.characterization.tensors.length).toBeGreaterThan(90);
    // a finished run's status is served from memory; its 16 layers x 2 phases, 4 groupings and ~100 tensors
    // load in a handful of batched statements once; a repeat reads less (only the tensor page goes back to the warehouse)
    expect(smallCost).toBe(0);
    expect(bigCost).toBeGreaterThan(0);
    expect(bigCost).toBeLessThanOrEqual(8);
    n = w.statementCount;
    await t.execute(everything);
    expect(w.statementCount - n).toBeLessThan(bigCost);
  });
});

describe('bad input gets a specific error and changes nothing', () => {
  async function errorOf(query: string): Promise<{ code: string; message: string; extensions: Record<string, unknown> }> {
    const r = await t.execute(query);
    expect(r.errors, query).toBeDefined();
    const e = r.errors![0]!;
    return { code: e.extensions?.code as string, message: e.message, extensions: e.extensions ?? {} };
  }

  test('unknown checkpoint: NOT_FOUND naming it', async () => {
    const e = await errorOf(`{ characterization(base: "nope/x", sft: "planted/sft", rl: "planted/rl") { status } }`);
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain("'nope/x'");
  });

  test('invalid options: BAD_USER_INPUT naming the option', async () => {
    const runsBefore = (await characterizationRuns()).length;
    for (const [options, word] of [
      ['{ topK: 0 }', 'topK'],
      ['{ layerCuts: [9, 3] }', 'layerCuts'],
      ['{ layerCuts: [4, 13] }', 'layerCuts'],
      ['{ weightFilter: "no_such_tensor" }', 'weightFilter'],
    ] as const) {
      const e = await errorOf(`{ characterization(${trioArgs}, options: ${options}) { status } }`);
      expect(e.code, options).toBe('BAD_USER_INPUT');
      expect(e.message, options).toContain(word);
    }
    const e = await errorOf(`{ characterization(${trioArgs}, waitSeconds: -1) { status } }`);
    expect(e.message).toContain('waitSeconds');
    expect((await characterizationRuns()).length).toBe(runsBefore);
  });

  test('no error carries a stack trace', async () => {
    const r = await t.execute(`{ characterization(base: "nope/x", sft: "planted/sft", rl: "planted/rl") { status } }`);
    expect(JSON.stringify(r.errors)).not.toMatch(/stacktrace|\bat .*\.ts:\d+/);
  });
});

describe('atomicity', () => {
  test('a failure mid-run leaves no rows and a FAILED run with its error', async () => {
    const { warehouse, registry } = t.app.services;
    // an executor whose first unit dies half way
    const failing: UnitExecutor = {
      name: 'failing',
      async run(_runId, units, hooks) {
        expect(units.length).toBeGreaterThan(1);
        hooks.onUnitProgress(units[0]!, 0.5, 'model.layers.0.mlp.up_proj.weight');
        throw new Error('disk vanished while reading model.layers.0.mlp.down_proj.weight');
      },
    };
    const service = new CharacterizationService(warehouse, registry, new RunManager(warehouse, ENGINE_VERSION, failing));
    const handle = await service.start({ base: 'planted/base', sft: 'planted/sft', rl: 'planted/rl', options: { topK: 7 } });
    await handle.settled;
    const r = await t.execute<any>(`{ run(id: "${handle.runId}") { status error } }`);
    expect(r.data.run.status).toBe('FAILED');
    expect(r.data.run.error).toContain('disk vanished');
    for (const table of ['tensor_stats', 'layer_stats', 'group_stats']) {
      const count = await warehouse.readOnlySql(`SELECT count(*) FROM ${table} WHERE run_id = '${handle.runId}'`);
      expect(count.rows[0]![0], table).toBe(0);
    }
    // a failed run is not a cache hit: the next identical request resumes it (same run, its staged units kept) and succeeds
    const again = await t.execute<any>(`{ characterization(${trioArgs}, options: { topK: 7 }, waitSeconds: 120) { status run { id } } }`);
    expect(again.data.characterization.status).toBe('DONE');
    expect(again.data.characterization.run.id).toBe(handle.runId);
    const stored = await warehouse.readOnlySql(`SELECT count(*) FROM tensor_stats WHERE run_id = '${handle.runId}'`);
    expect(Number(stored.rows[0]![0])).toBeGreaterThan(0);
  });
});
