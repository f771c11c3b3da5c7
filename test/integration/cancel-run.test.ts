import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestApp, registerPlantedTrio, type TestApp } from '../helpers/test-app.js';

let t: TestApp;

beforeAll(async () => {
  // big enough that the run is still computing when the cancel arrives
  t = await createTestApp({ hidden: 256, intermediate: 1024, numLayers: 6 });
  await registerPlantedTrio(t);
}, 120_000);

afterAll(async () => {
  await t?.close();
});

const start = `{ characterization(base: "planted/base", sft: "planted/sft", rl: "planted/rl", waitSeconds: 0) { status run { id } } }`;

describe('cancelRun', () => {
  test('stops a running characterization: FAILED "cancelled", no rows, and the next request resumes it', async () => {
    const started = await t.execute<any>(start);
    const runId = started.data.characterization.run.id;
    const cancelled = await t.execute<any>(`mutation { cancelRun(id: "${runId}") { id } }`);
    expect(cancelled.errors).toBeUndefined();
    let status = 'RUNNING';
    let error: string | null = null;
    for (let i = 0; i < 300 && status === 'RUNNING'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const r = await t.execute<any>(`{ run(id: "${runId}") { status error } }`);
      ({ status, error } = r.data.run);
    }
    expect(status).toBe('FAILED');
    expect(error).toBe('cancelled by request');
    const rows = await t.app.services.warehouse.readOnlySql(`SELECT count(*) FROM tensor_stats WHERE run_id = '${runId}'`);
    expect(rows.rows[0]![0]).toBe(0);
    // a cancelled run is not a cache hit: asking again resumes the same run from its staged units
    const again = await t.execute<any>(start);
    expect(again.data.characterization.run.id).toBe(runId);
    expect(again.data.characterization.status).toBe('RUNNING');
    await t.execute(`mutation { cancelRun(id: "${again.data.characterization.run.id}") { id } }`);
  }, 120_000);

  test('cancelling an unknown or finished run is a clear error', async () => {
    const unknown = await t.execute(`mutation { cancelRun(id: "no-such-run") { id } }`);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const done = await t.execute<any>(`{ characterization(base: "planted/base", sft: "planted/sft", rl: "planted/rl", options: { weightFilter: "q_proj" }, waitSeconds: 120) { status run { id } } }`);
    expect(done.data.characterization.status).toBe('DONE');
    const r = await t.execute(`mutation { cancelRun(id: "${done.data.characterization.run.id}") { id } }`);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toMatch(/DONE/);
  }, 120_000);
});
