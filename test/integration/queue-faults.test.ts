/**
 * Faults with the queue, real worker processes: a worker SIGKILLed mid-unit,
 * a poison unit, a cancel, Redis going down and coming back empty.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/config.js';
import { encodeUnitResult } from '../../src/engine/units/work-unit.js';
import { QueueExecutor } from '../../src/queue/queue-executor.js';
import { UNIT_QUEUE, unitJobId } from '../../src/queue/unit-jobs.js';
import { toClientError } from '../../src/resolvers/translate-error.js';
import { CANCELLED_MESSAGE, RunManager } from '../../src/services/run-manager.js';
import { Warehouse } from '../../src/warehouse/index.js';
import { useQueueSandbox } from '../helpers/queue-sandbox.js';
import { startWorkerProcess, type Child } from '../helpers/units/processes.js';
import { sha256, testPlanSpec, type TestPlanOptions } from '../helpers/units/test-plan.js';
import { expectedValues } from '../helpers/units/test-unit.js';

function undisturbedSha(plan: TestPlanOptions): string {
  const size = plan.size ?? 64;
  return sha256(encodeUnitResult(Array.from({ length: plan.units }, (_, index) => ({ index, values: expectedValues(index, size) }))));
}

function logLines(logFile: string): string[][] {
  return existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').map((l) => l.split(' ')) : [];
}

function count(logFile: string, what: 'start' | 'done', index: number): number {
  return logLines(logFile).filter(([w, i]) => w === what && Number(i) === index).length;
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('queue faults', () => {
  const sandbox = useQueueSandbox('frankenscope-faults');
  let warehouse: Warehouse;
  let executor: QueueExecutor;
  let runs: RunManager;
  let workers: Child[] = [];

  const setUp = async (names: string[], worker: { lockMs?: number; stalledMs?: number } = {}) => {
    warehouse = await Warehouse.open(':memory:');
    executor = new QueueExecutor({ redisUrl: sandbox.redis.url, packageRoot: PACKAGE_ROOT, attempts: 2, backoffMs: 100 });
    runs = new RunManager(warehouse, 'test', executor);
    workers = await Promise.all(names.map((name) => startWorkerProcess(sandbox.redis.url, { name, ...worker })));
  };

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await executor?.close();
    warehouse?.closeSync();
  });

  it('a worker killed mid-unit: BullMQ gives the unit to the other worker, same result, nothing duplicated', async () => {
    // short enough for a quick test, long enough that a live worker starved of CPU for a moment keeps its lock
    await setUp(['doomed', 'survivor'], { lockMs: 3000, stalledMs: 1000 });
    const plan = { units: 4, size: 40, sleepMs: 1200, logFile: join(sandbox.dir, 'kill.log') };
    let sha: string | undefined;
    const handle = await runs.startOrJoin(testPlanSpec(plan, (r) => (sha = sha256(r.bytes))));
    const doomed = workers[0]!;
    await until(() => logLines(plan.logFile).some(([w, , pid]) => w === 'start' && pid === String(doomed.pid)), 'a unit on the doomed worker');
    const victim = Number(logLines(plan.logFile).find(([w, , pid]) => w === 'start' && pid === String(doomed.pid))![1]);
    await doomed.kill('SIGKILL');
    await handle.settled;

    const [run] = await warehouse.getRuns([handle.runId]);
    expect(run).toMatchObject({ status: 'DONE', error: null });
    expect(sha).toBe(undisturbedSha(plan));
    // the killed unit started twice and finished once, on the survivor
    expect(count(plan.logFile, 'start', victim)).toBe(2);
    for (let i = 0; i < plan.units; i++) expect(count(plan.logFile, 'done', i)).toBe(1);
    expect(logLines(plan.logFile).filter(([w, i]) => w === 'done' && Number(i) === victim)[0]![2]).toBe(String(workers[1]!.pid));
  });

  it('a poison unit fails its run with the unit and the reason after a bounded number of attempts; an input no worker holds is refused at once', async () => {
    await setUp(['w']);
    const plan = { units: 3, size: 8, poison: [1], logFile: join(sandbox.dir, 'poison.log') };
    const handle = await runs.startOrJoin(testPlanSpec(plan));
    await handle.settled;
    const [run] = await warehouse.getRuns([handle.runId]);
    expect(run?.status).toBe('FAILED');
    expect(run?.error).toBe('unit 1 (test unit 1) failed after 2 attempts: unit 1 is poison');
    expect(count(plan.logFile, 'start', 1)).toBe(2);

    // a unit whose input this worker holds nowhere is refused at once, not retried
    const stranger = { role: 'base', path: join(sandbox.dir, 'no-such-checkpoint'), fingerprint: 'f'.repeat(64) };
    const refused = await runs.startOrJoin(testPlanSpec({ units: 1, size: 8, inputs: [stranger], logFile: join(sandbox.dir, 'refused.log') }));
    await refused.settled;
    const [refusedRun] = await warehouse.getRuns([refused.runId]);
    expect(refusedRun?.status).toBe('FAILED');
    expect(refusedRun?.error).toMatch(/^unit 0 \(test unit 0\) failed after 1 attempt: worker w refused the unit: no copy of input 'base' \(.*no-such-checkpoint, fingerprint f{16}…\)/);
    expect(existsSync(join(sandbox.dir, 'refused.log'))).toBe(false);
  });

  it('cancel removes the queued units and stops the running one; asking again resumes', async () => {
    await setUp(['w']);
    const plan = { units: 3, size: 8, sleepMs: 1500, logFile: join(sandbox.dir, 'cancel.log') };
    const handle = await runs.startOrJoin(testPlanSpec(plan));
    await until(() => count(plan.logFile, 'start', 0) === 1 || count(plan.logFile, 'start', 1) === 1, 'a unit to start');
    expect(runs.cancel(handle.runId)).toBe(true);
    await handle.settled;
    expect((await warehouse.getRuns([handle.runId]))[0]).toMatchObject({ status: 'FAILED', error: CANCELLED_MESSAGE });

    const queue = new Queue(UNIT_QUEUE, { connection: { url: sandbox.redis.url } });
    try {
      const states = await Promise.all(
        [0, 1, 2].map(async (i) => (await queue.getJob(unitJobId(handle.runId, i)))?.getState() ?? 'removed'),
      );
      // one unit was running; the others were waiting and are gone
      expect(states.filter((s) => s === 'removed')).toHaveLength(2);
      const running = states.findIndex((s) => s !== 'removed');
      const deadline = Date.now() + 5000;
      let job = await queue.getJob(unitJobId(handle.runId, running));
      while ((await job?.getState()) !== 'failed' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        job = await queue.getJob(unitJobId(handle.runId, running));
      }
      expect(await job?.getState()).toBe('failed');
      expect(job?.failedReason).toMatch(/cancelled/);
      // stopped before its 1.5 s of work were over
      expect(count(plan.logFile, 'done', running)).toBe(0);
    } finally {
      await queue.close();
    }

    const again = await runs.startOrJoin(testPlanSpec(plan));
    expect(again.runId).toBe(handle.runId);
    await again.settled;
    expect((await warehouse.getRuns([handle.runId]))[0]).toMatchObject({ status: 'DONE' });
  });

  it('Redis down: new runs get QUEUE_UNAVAILABLE, cached reads answer, and the run in flight finishes once Redis is back', async () => {
    await setUp(['w']);
    const small = { units: 2, size: 8, tag: 'cached' };
    const cached = await runs.startOrJoin(testPlanSpec(small));
    await cached.settled;

    const plan = { units: 4, size: 16, sleepMs: 500, logFile: join(sandbox.dir, 'down.log') };
    let sha: string | undefined;
    const inFlight = await runs.startOrJoin(testPlanSpec(plan, (r) => (sha = sha256(r.bytes))));
    await until(() => count(plan.logFile, 'done', 0) + count(plan.logFile, 'done', 1) > 0, 'a unit done');
    await sandbox.redis.kill();

    const before = (await warehouse.listRuns()).length;
    let refusal: unknown;
    // the executor notices the lost connection within moments; until then a request may still be taken
    for (let i = 0; i < 50 && refusal === undefined; i++) {
      refusal = await runs.startOrJoin(testPlanSpec({ units: 1, tag: `new ${i}` })).then(
        () => undefined,
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    const client = toClientError(refusal);
    expect(client.extensions.code).toBe('QUEUE_UNAVAILABLE');
    expect(client.message).toContain(`the work queue at redis://127.0.0.1:${sandbox.redis.port}`);
    expect(client.message).not.toMatch(/\n\s+at /);
    expect((await warehouse.listRuns()).length).toBe(before);

    const read = await runs.startOrJoin(testPlanSpec(small));
    expect(read).toMatchObject({ runId: cached.runId, cached: true });

    await sandbox.redis.restart();
    await inFlight.settled;
    expect((await warehouse.getRuns([inFlight.runId]))[0]).toMatchObject({ status: 'DONE', error: null });
    expect(sha).toBe(undisturbedSha(plan));
  });
});
