/**
 * A coordinator killed with SIGKILL mid-run and started again on the same
 * warehouse: the run was left RUNNING, is FAILED 'interrupted' at start
 * (never RUNNING forever), and asking again resumes the same run from its
 * staged units: no staged unit is computed again, and the result equals an
 * undisturbed run's. With the queue, units finished while the coordinator
 * was down are collected, not recomputed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeUnitResult } from '../../src/engine/units/work-unit.js';
import { Warehouse } from '../../src/warehouse/index.js';
import { useQueueSandbox } from '../helpers/queue-sandbox.js';
import { startCoordinatorProcess, startWorkerProcess } from '../helpers/units/processes.js';
import { sha256, type TestPlanOptions } from '../helpers/units/test-plan.js';
import { expectedValues } from '../helpers/units/test-unit.js';

function undisturbedSha(plan: TestPlanOptions): string {
  const size = plan.size ?? 64;
  return sha256(encodeUnitResult(Array.from({ length: plan.units }, (_, index) => ({ index, values: expectedValues(index, size) }))));
}

/** 'done' lines per unit index in a units log */
function doneCounts(logFile: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of readFileSync(logFile, 'utf8').trim().split('\n')) {
    const [what, index] = line.split(' ');
    if (what === 'done') counts.set(Number(index), (counts.get(Number(index)) ?? 0) + 1);
  }
  return counts;
}

async function untilDone(logFile: string, atLeast: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!existsSync(logFile) || [...doneCounts(logFile).values()].length < atLeast) {
    if (Date.now() > deadline) throw new Error(`fewer than ${atLeast} units done within a minute`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Opened {
  runs: { id: string; status: string; error: string | null }[];
}

describe('a killed coordinator resumes from its staged units', () => {
  const sandbox = useQueueSandbox('frankenscope-resume', 'SIGKILL');

  async function killMidRun(options: { warehouse: string; redisUrl?: string; plan: TestPlanOptions }) {
    const first = startCoordinatorProcess(options);
    sandbox.adopt(first);
    const { runId } = await first.waitForEvent<{ runId: string }>('started', 60_000);
    await untilDone(options.plan.logFile!, 2);
    // give the coordinator a moment to stage what it got, then kill it the hard way
    await new Promise((r) => setTimeout(r, 100));
    await first.kill('SIGKILL');
    const left = await Warehouse.open(options.warehouse, { readOnly: true });
    const [run] = await left.getRuns([runId]);
    const staged = (await left.stagedUnits(runId)).map((u) => u.unitIndex);
    left.closeSync();
    expect(run?.status).toBe('RUNNING');
    return { runId, staged };
  }

  async function askAgain(options: { warehouse: string; redisUrl?: string; plan: TestPlanOptions }) {
    const second = startCoordinatorProcess(options);
    sandbox.adopt(second);
    const opened = await second.waitForEvent<Opened>('opened', 60_000);
    const started = await second.waitForEvent<{ runId: string; cached: boolean }>('started', 60_000);
    const settled = await second.waitForEvent<{ status: string; error: string | null; sha256: string }>('settled', 60_000);
    return { opened, started, settled };
  }

  it('without a queue: FAILED at start, and asking again computes only the units not staged', async () => {
    const plan = { units: 6, size: 33, sleepMs: 400, logFile: join(sandbox.dir, 'local.log') };
    const options = { warehouse: join(sandbox.dir, 'local.duckdb'), plan };
    const { runId, staged } = await killMidRun(options);
    expect(staged.length).toBeGreaterThanOrEqual(1);

    const { opened, started, settled } = await askAgain(options);
    expect(opened.runs).toEqual([{ id: runId, status: 'FAILED', error: 'interrupted: server stopped' }]);
    expect(started).toMatchObject({ runId, cached: false });
    expect(settled).toMatchObject({ status: 'DONE', error: null, sha256: undisturbedSha(plan) });
    const done = doneCounts(plan.logFile);
    for (const index of staged) expect(done.get(index)).toBe(1);
    expect([...done.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('with the queue: the workers go on while the coordinator is down, and no unit is computed twice', async () => {
    const worker = await startWorkerProcess(sandbox.redis.url, { name: 'steady' });
    sandbox.adopt(worker);
    const plan = { units: 6, size: 33, sleepMs: 400, logFile: join(sandbox.dir, 'queued.log') };
    const options = { warehouse: join(sandbox.dir, 'queued.duckdb'), redisUrl: sandbox.redis.url, plan };
    const { runId } = await killMidRun(options);
    // the worker keeps computing queued units while no coordinator listens
    await untilDone(plan.logFile, 4);

    const { opened, started, settled } = await askAgain(options);
    expect(opened.runs).toEqual([{ id: runId, status: 'FAILED', error: 'interrupted: server stopped' }]);
    expect(started).toMatchObject({ runId, cached: false });
    expect(settled).toMatchObject({ status: 'DONE', error: null, sha256: undisturbedSha(plan) });
    expect(doneCounts(plan.logFile)).toEqual(new Map([0, 1, 2, 3, 4, 5].map((i) => [i, 1])));
  });
});
