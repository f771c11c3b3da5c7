/**
 * Issue 17: kill -9 the server mid-run and start it again on the same
 * warehouse and queue, without asking again: the run resumes by itself
 * (its stored request is replayed at start) under the same run id, no unit
 * staged before the kill is computed again, and its rows equal an
 * undisturbed run's. Real processes throughout: `frankenscope serve` and two
 * `frankenscope worker`s on a zero-ablation of the demo model. Also a
 * worker killed with SIGKILL mid-unit: its unit moves to the other worker
 * and the rows are still an undisturbed run's. Without a queue nothing
 * resumes by itself: the run is FAILED at start and asking again resumes it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Warehouse } from '../../src/warehouse/index.js';
import { useQueueSandbox } from '../helpers/queue-sandbox.js';
import { resultRows, startServerProcess, type ServerChild } from '../helpers/server-process.js';
import { startWorkerProcess, type Child } from '../helpers/units/processes.js';

// 300 reasoning probes at 16 a unit: 19 units of about a second each
const ZERO_ABLATION = `{ localization(model: "demo/sft", probeSet: "demo/questions", method: ZERO_ABLATION, options: { split: "reasoning", scoring: TEACHER_FORCED }, waitSeconds: 0) { run { id } } }`;

/** How many times the workers computed each unit of the run, by unit index. */
function computedUnits(workers: readonly Child[], runId: string): Map<number, number> {
  const counts = new Map<number, number>();
  const done = new RegExp(`unit (\\d+) \\(.*?\\) of run ${runId}: done in`, 'g');
  for (const worker of workers) for (const match of worker.output().matchAll(done)) counts.set(Number(match[1]), (counts.get(Number(match[1])) ?? 0) + 1);
  return counts;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function untilDone(server: ServerChild, runId: string): Promise<{ status: string; error: string | null }> {
  return until(`DONE or FAILED run ${runId}`, async () => {
    const { run } = await server.query<{ run: { status: string; error: string | null } }>(`query($id: ID!) { run(id: $id) { status error } }`, { id: runId });
    return run.status === 'DONE' || run.status === 'FAILED' ? run : undefined;
  }, 300_000);
}

async function stagedCount(server: ServerChild, runId: string): Promise<number> {
  const { sql } = await server.query<{ sql: { rows: number[][] } }>(`query($q: String!) { sql(query: $q) { rows } }`, { q: `SELECT count(*)::INTEGER FROM run_units WHERE run_id = '${runId}'` });
  return sql.rows[0]![0]!;
}

describe('a served run interrupted by SIGKILL (server or worker)', () => {
  const sandbox = useQueueSandbox('frankenscope-server-resume');
  let reference: Promise<Record<string, unknown>> | undefined;

  /** The rows of the zero-ablation run undisturbed, computed once in a server's own model thread (no queue). */
  function undisturbedRows(): Promise<Record<string, unknown>> {
    reference ??= (async () => {
      const server = await startServerProcess({ warehouse: join(sandbox.dir, 'undisturbed.duckdb') });
      sandbox.adopt(server);
      const { localization } = await server.query<{ localization: { run: { id: string } } }>(ZERO_ABLATION);
      expect(await untilDone(server, localization.run.id)).toEqual({ status: 'DONE', error: null });
      const rows = await resultRows(server);
      await server.kill('SIGTERM');
      return rows;
    })();
    return reference;
  }

  /** Two queue workers and a server on a new warehouse zero-ablating until two units are staged, then the server SIGKILLed. */
  async function serverKilledMidRun(workerNames: string[], warehouseName: string): Promise<{ warehouse: string; runId: string; workers: Child[] }> {
    const workers = sandbox.adopt(...(await Promise.all(workerNames.map((name) => startWorkerProcess(sandbox.redis.url, { name })))));
    const warehouse = join(sandbox.dir, warehouseName);
    const [server] = sandbox.adopt(await startServerProcess({ warehouse, redisUrl: sandbox.redis.url }));
    const { localization } = await server!.query<{ localization: { run: { id: string } } }>(ZERO_ABLATION);
    const runId = localization.run.id;
    await until('two staged units', async () => ((await stagedCount(server!, runId)) >= 2 ? true : undefined), 240_000);
    await server!.kill('SIGKILL');
    return { warehouse, runId, workers };
  }

  it('kill -9 mid-run, restart without asking: DONE under the same id, staged units not recomputed, rows of an undisturbed run', async () => {
    const { warehouse, runId, workers } = await serverKilledMidRun(['worker-a', 'worker-b'], 'killed.duckdb');

    const left = await Warehouse.open(warehouse, { readOnly: true });
    const [interrupted] = await left.getRuns([runId]);
    const stagedBeforeKill = (await left.stagedUnits(runId)).map((u) => u.unitIndex);
    left.closeSync();
    expect(interrupted?.status).toBe('RUNNING');
    expect(stagedBeforeKill.length).toBeGreaterThanOrEqual(2);

    const restarted = await startServerProcess({ warehouse, redisUrl: sandbox.redis.url });
    sandbox.adopt(restarted);
    // FAILED 'interrupted' from the warehouse's open until the replay re-joins it
    await restarted.waitForText(`interrupted run ${runId}: `, 60_000);
    expect(restarted.output()).toContain(`interrupted run ${runId}: resumed`);
    expect(await untilDone(restarted, runId)).toEqual({ status: 'DONE', error: null });

    // every worker process of this file, in case one from an earlier test is still taking units
    const computed = computedUnits(sandbox.children, runId);
    const total = Math.max(...computed.keys()) + 1;
    expect(total).toBeGreaterThan(stagedBeforeKill.length);
    expect([...computed.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    for (const index of stagedBeforeKill) expect({ index, times: computed.get(index) }).toEqual({ index, times: 1 });

    const rows = await resultRows(restarted);
    expect(Object.values(rows).some((table) => (table as unknown[]).length > 0)).toBe(true);
    expect(rows).toEqual(await undisturbedRows());
    await Promise.all([restarted, ...workers].map((c) => c.kill('SIGTERM')));
  }, 600_000);

  it('a worker killed with SIGKILL mid-unit: the other worker computes its unit, rows of an undisturbed run', async () => {
    // short locks, so the dead worker's unit moves on within seconds
    const [steady, victim] = await Promise.all(['steady', 'victim'].map((name) => startWorkerProcess(sandbox.redis.url, { name, lockMs: 3000, stalledMs: 3000 })));
    sandbox.adopt(steady!, victim!);
    await undisturbedRows();
    const server = await startServerProcess({ warehouse: join(sandbox.dir, 'worker-killed.duckdb'), redisUrl: sandbox.redis.url });
    sandbox.adopt(server);
    const { localization } = await server.query<{ localization: { run: { id: string } } }>(ZERO_ABLATION);
    const runId = localization.run.id;
    await victim!.waitForText(`of run ${runId}: started`, 240_000);
    await victim!.kill('SIGKILL');
    const startedByVictim = [...victim!.output().matchAll(new RegExp(`unit (\\d+) \\(.*?\\) of run ${runId}: started`, 'g'))].map((m) => Number(m[1]));
    const finishedByVictim = computedUnits([victim!], runId);
    const cutShort = startedByVictim.filter((index) => !finishedByVictim.has(index));
    expect(cutShort.length).toBeGreaterThan(0);

    expect(await untilDone(server, runId)).toEqual({ status: 'DONE', error: null });
    const bySteady = computedUnits([steady!], runId);
    for (const index of cutShort) expect({ index, times: bySteady.get(index) }).toEqual({ index, times: 1 });
    expect(await resultRows(server)).toEqual(await undisturbedRows());
    await Promise.all([server, steady!].map((c) => c.kill('SIGTERM')));
  }, 600_000);

  it('without a queue: FAILED at start, not replayed, and asking again resumes the same run', async () => {
    const warehouse = join(sandbox.dir, 'no-queue.duckdb');
    const first = await startServerProcess({ warehouse });
    sandbox.adopt(first);
    const { localization } = await first.query<{ localization: { run: { id: string } } }>(ZERO_ABLATION);
    const runId = localization.run.id;
    await until('two staged units', async () => ((await stagedCount(first, runId)) >= 2 ? true : undefined), 240_000);
    await first.kill('SIGKILL');

    const restarted = await startServerProcess({ warehouse });
    sandbox.adopt(restarted);
    // a replay would have re-joined the run within a moment of listening
    await new Promise((r) => setTimeout(r, 3000));
    const { run } = await restarted.query<{ run: { status: string; error: string | null } }>(`query($id: ID!) { run(id: $id) { status error } }`, { id: runId });
    expect(run).toEqual({ status: 'FAILED', error: 'interrupted: server stopped' });
    expect(restarted.output()).not.toContain('interrupted run');
    expect(await stagedCount(restarted, runId)).toBeGreaterThanOrEqual(2);

    const asked = await restarted.query<{ localization: { run: { id: string } } }>(ZERO_ABLATION);
    expect(asked.localization.run.id).toBe(runId);
    expect(await untilDone(restarted, runId)).toEqual({ status: 'DONE', error: null });
    expect(await resultRows(restarted)).toEqual(await undisturbedRows());
  }, 600_000);

  it('Redis down at the restart: the replay waits for it and resumes the run once Redis is back, empty', async () => {
    const { warehouse, runId, workers } = await serverKilledMidRun(['after-1', 'after-2'], 'redis-down.duckdb');
    await sandbox.redis.kill();
    const left = await Warehouse.open(warehouse, { readOnly: true });
    const stagedBeforeKill = (await left.stagedUnits(runId)).map((u) => u.unitIndex);
    left.closeSync();

    const restarted = await startServerProcess({ warehouse, redisUrl: sandbox.redis.url });
    sandbox.adopt(restarted);
    await restarted.waitForText(`interrupted run ${runId} waits for the queue`, 60_000);
    // the server answers while the replay waits
    const { run: waiting } = await restarted.query<{ run: { status: string; error: string | null } }>(`query($id: ID!) { run(id: $id) { status error } }`, { id: runId });
    expect(waiting).toEqual({ status: 'FAILED', error: 'interrupted: server stopped' });
    await sandbox.redis.restart();
    await restarted.waitForText(`interrupted run ${runId}: `, 60_000);
    expect(restarted.output()).toContain(`interrupted run ${runId}: resumed`);
    expect(await untilDone(restarted, runId)).toEqual({ status: 'DONE', error: null });
    // every worker process of this file, in case one from an earlier test is still taking units
    const computed = computedUnits(sandbox.children, runId);
    for (const index of stagedBeforeKill) expect({ index, times: computed.get(index) }).toEqual({ index, times: 1 });
    expect(await resultRows(restarted)).toEqual(await undisturbedRows());
    await Promise.all([restarted, ...workers].map((c) => c.kill('SIGTERM')));
  }, 600_000);
});
