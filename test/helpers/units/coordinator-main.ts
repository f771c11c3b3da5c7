/**
 * A coordinator process for the resume tests (killed with SIGKILL by them):
 * opens the warehouse, asks for one test-plan run through the queue (given a
 * Redis URL) or this process's model worker, and prints JSON lines:
 * {event:'opened', runs} before asking, {event:'started', runId}, then
 * {event:'settled', status, error, sha256}.
 * Usage: node --import tsx coordinator-main.ts '<json options>'
 */
import { ModelWorker } from '../../../src/engine/runtime/model-worker.js';
import { PACKAGE_ROOT } from '../../../src/config.js';
import { QueueExecutor } from '../../../src/queue/queue-executor.js';
import { RunManager } from '../../../src/services/run-manager.js';
import { InProcessExecutor } from '../../../src/services/units/in-process-executor.js';
import type { UnitExecutor } from '../../../src/services/units/unit-executor.js';
import { Warehouse } from '../../../src/warehouse/index.js';
import { sha256, testPlanSpec, type TestPlanOptions } from './test-plan.js';

interface CoordinatorOptions {
  warehouse: string;
  redisUrl?: string;
  plan: TestPlanOptions;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]!) as CoordinatorOptions;
  const warehouse = await Warehouse.open(options.warehouse);
  const say = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);
  say({ event: 'opened', runs: (await warehouse.listRuns()).map((r) => ({ id: r.id, status: r.status, error: r.error })) });
  let thread: Promise<ModelWorker> | undefined;
  const executor: UnitExecutor = options.redisUrl
    ? new QueueExecutor({ redisUrl: options.redisUrl, packageRoot: PACKAGE_ROOT, backoffMs: 100 })
    : new InProcessExecutor(() => (thread ??= ModelWorker.create({ threads: 1 })));
  const runs = new RunManager(warehouse, 'test', executor);
  let stored: string | undefined;
  const handle = await runs.startOrJoin(testPlanSpec(options.plan, (r) => (stored = sha256(r.bytes))));
  say({ event: 'started', runId: handle.runId, cached: handle.cached });
  await handle.settled;
  const [run] = await warehouse.getRuns([handle.runId]);
  say({ event: 'settled', status: run?.status, error: run?.error, sha256: stored });
  await executor.close?.();
  await (await thread)?.release();
  warehouse.closeSync();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
