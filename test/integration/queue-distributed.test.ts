/**
 * One plan through this process's model worker and through the queue with
 * two worker processes: the same combined bytes, every unit staged once,
 * units spread over both workers, staged rows gone once the run is DONE.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/config.js';
import { ModelWorker } from '../../src/engine/runtime/model-worker.js';
import { QueueExecutor } from '../../src/queue/queue-executor.js';
import { RunManager } from '../../src/services/run-manager.js';
import { InProcessExecutor } from '../../src/services/units/in-process-executor.js';
import { Warehouse } from '../../src/warehouse/index.js';
import { useQueueSandbox } from '../helpers/queue-sandbox.js';
import { startWorkerProcess, type Child } from '../helpers/units/processes.js';
import { testPlanSpec, type TestPlanResult } from '../helpers/units/test-plan.js';
import { expectedValues } from '../helpers/units/test-unit.js';

describe('units through the queue', () => {
  const sandbox = useQueueSandbox('frankenscope-queue');
  let workers: Child[] = [];

  beforeAll(async () => {
    // w2 takes two units at once, each in its own model thread
    workers = sandbox.adopt(...(await Promise.all([startWorkerProcess(sandbox.redis.url, { name: 'w1' }), startWorkerProcess(sandbox.redis.url, { name: 'w2', concurrency: 2 })])));
  });

  it('two worker processes give the bytes the in-process executor gives, each unit computed once', async () => {
    const logFile = join(sandbox.dir, 'units.log');
    const plan = { units: 8, size: 257, sleepMs: 200, logFile };

    const thread = ModelWorker.create({ threads: 1 });
    const local = await Warehouse.open(':memory:');
    let inProcess: TestPlanResult | undefined;
    try {
      const runs = new RunManager(local, 'test', new InProcessExecutor(() => thread));
      const handle = await runs.startOrJoin(testPlanSpec({ ...plan, logFile: join(sandbox.dir, 'local.log') }, (r) => (inProcess = r)));
      await handle.settled;
    } finally {
      await (await thread).release();
      local.closeSync();
    }

    const warehouse = await Warehouse.open(':memory:');
    const executor = new QueueExecutor({ redisUrl: sandbox.redis.url, packageRoot: PACKAGE_ROOT });
    let distributed: TestPlanResult | undefined;
    const messages: string[] = [];
    try {
      const runs = new RunManager(warehouse, 'test', executor);
      const handle = await runs.startOrJoin(testPlanSpec(plan, (r) => (distributed = r)));
      const watch = setInterval(() => {
        const message = runs.liveProgress(handle.runId)?.message;
        if (message) messages.push(message);
      }, 20);
      await handle.settled;
      clearInterval(watch);
      const [run] = await warehouse.getRuns([handle.runId]);
      expect(run).toMatchObject({ status: 'DONE', error: null });
      // the final rows hold the result now; the staged copies went with DONE
      expect(await warehouse.stagedUnits(handle.runId)).toEqual([]);
    } finally {
      await executor.close();
      warehouse.closeSync();
    }

    expect(inProcess).toBeDefined();
    expect(distributed!.bytes.equals(inProcess!.bytes)).toBe(true);
    // and the bytes hold what the unit computes, bit for bit
    const { deserialize } = await import('node:v8');
    const results = deserialize(distributed!.bytes) as { index: number; values: Float64Array }[];
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(bits(results[3]!.values).equals(bits(expectedValues(3, 257)))).toBe(true);

    const lines = (await readFile(logFile, 'utf8')).trim().split('\n');
    const done = lines.filter((l) => l.startsWith('done')).map((l) => Number(l.split(' ')[1])).sort((a, b) => a - b);
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const pids = new Set(lines.map((l) => l.split(' ')[2]));
    expect(pids).toEqual(new Set(workers.map((w) => String(w.pid))));
    expect(messages.some((m) => /\d+\/8 units done \(.*w1 \d/.test(m) || /w2 \d+, w1 \d+/.test(m))).toBe(true);
  });
});
