/**
 * Scale-out: units/s of one queue worker (1 thread) against two (1 thread
 * each) in the same run of this script, the in-process executor as the
 * baseline, the queue's overhead per unit against the unit's compute, and
 * the time to resume a killed run. Prints JSON.
 *
 *   npx tsx bench/scale-out.ts [--units 10] [--reps 12]
 *
 * Needs redis-server (it starts its own on a free loopback port). The unit
 * is bench/units/matmul-unit.ts (onnxruntime float32 MatMuls, compute-bound)
 * until the real analyses are cut into units.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src/config.js';
import { ModelWorker } from '../src/engine/runtime/model-worker.js';
import { encodeUnitResult, type WorkUnit } from '../src/engine/units/work-unit.js';
import { QueueExecutor, type UnitTiming } from '../src/queue/queue-executor.js';
import { RunManager, type RunSpec } from '../src/services/run-manager.js';
import { InProcessExecutor } from '../src/services/units/in-process-executor.js';
import type { UnitExecutor } from '../src/services/units/unit-executor.js';
import { Warehouse } from '../src/warehouse/index.js';
import { startRedis } from '../test/helpers/redis.js';
import { startCoordinatorProcess, startWorkerProcess, type Child } from '../test/helpers/units/processes.js';
import type { MatmulUnitInput } from './units/matmul-unit.js';

const { values: args } = parseArgs({ options: { units: { type: 'string', default: '10' }, reps: { type: 'string', default: '12' } } });
const UNITS = Number(args.units);
const REPS = Number(args.reps);
const SHAPE = { tokens: 256, hidden: 1024, inter: 2816 };
const MODULE = new URL('./units/matmul-unit.ts', import.meta.url).href;

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function matmulSpec(tag: string, units: number): RunSpec<Buffer> {
  const plan: WorkUnit[] = Array.from({ length: units }, (_, index) => {
    const input: MatmulUnitInput = { index, reps: REPS, ...SHAPE };
    return { index, module: MODULE, exportName: 'matmulUnit', input, inputs: [], label: `matmul ${index}` };
  });
  return {
    kind: 'bench-matmul',
    params: { tag, units, reps: REPS, ...SHAPE },
    inputs: [],
    plan: async () => ({ units: plan, combine: (results) => encodeUnitResult(results) }),
    store: (warehouse, runId, result) =>
      warehouse.completeAnalysisRun(runId, {
        layerEffects: [{ layerIndex: null, section: null, task: 'all', metric: 'bytes', value: result.length, ciLow: null, ciHigh: null, n: units, extra: null }],
      }),
  };
}

async function timedRun(executor: UnitExecutor, tag: string, units = UNITS): Promise<number> {
  const warehouse = await Warehouse.open(':memory:');
  try {
    const runs = new RunManager(warehouse, 'bench', executor);
    const t0 = performance.now();
    const handle = await runs.startOrJoin(matmulSpec(tag, units));
    await handle.settled;
    const seconds = (performance.now() - t0) / 1000;
    const [run] = await warehouse.getRuns([handle.runId]);
    if (run?.status !== 'DONE') throw new Error(`bench run ${tag} ended ${run?.status}: ${run?.error}`);
    return seconds;
  } finally {
    warehouse.closeSync();
  }
}

/** Queue overhead of one run's units, from the executor's per-unit timings. */
function overhead(timings: readonly UnitTiming[]) {
  const byWorker = new Map<string, UnitTiming[]>();
  for (const t of timings) byWorker.set(t.worker, [...(byWorker.get(t.worker) ?? []), t]);
  const firstStart: number[] = [];
  const gaps: number[] = [];
  for (const list of byWorker.values()) {
    list.sort((a, b) => a.startedAt - b.startedAt);
    firstStart.push(list[0]!.startedAt - list[0]!.enqueuedAt);
    for (let i = 1; i < list.length; i++) gaps.push(list[i]!.startedAt - list[i - 1]!.finishedAt);
  }
  const compute = median(timings.map((t) => t.computeMs));
  const stored = median(timings.map((t) => t.storedAt - t.finishedAt));
  const gap = median(gaps);
  return {
    computeMsMedian: round(compute, 1),
    enqueueToStartMsFirstUnitPerWorker: firstStart.map((x) => round(x, 1)),
    /** a worker's idle time between finishing one unit and starting the next */
    pickupGapMsMedian: round(gap, 1),
    finishToStoredMsMedian: round(stored, 1),
    overheadShareOfCompute: round((gap + stored) / compute, 4),
  };
}

async function resumeBench(dir: string) {
  const units = 16;
  const sleepMs = 250;
  const plan = { units, size: 64, sleepMs, logFile: join(dir, 'resume.log') };
  const options = { warehouse: join(dir, 'resume.duckdb'), plan };
  const first = startCoordinatorProcess(options);
  await first.waitForEvent('started', 60_000);
  const done = () => (existsSync(plan.logFile) ? readFileSync(plan.logFile, 'utf8').split('\n').filter((l) => l.startsWith('done')).length : 0);
  while (done() < units / 2) await new Promise((r) => setTimeout(r, 20));
  await first.kill('SIGKILL');
  const doneBeforeKill = done();
  const t0 = performance.now();
  const second = startCoordinatorProcess(options);
  await second.waitForEvent('started', 60_000);
  const resumed = performance.now() - t0;
  const settled = await second.waitForEvent<{ status: string }>('settled', 120_000);
  const finished = performance.now() - t0;
  return {
    unit: `test unit sleeping ${sleepMs} ms, in-process executor (no queue)`,
    units,
    killedAfterUnitsDone: doneBeforeKill,
    restartToResumedMs: Math.round(resumed),
    restartToDoneMs: Math.round(finished),
    remainingComputeMs: (units - doneBeforeKill) * sleepMs,
    status: settled.status,
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'frankenscope-scale-out-'));
  const redis = await startRedis();
  const children: Child[] = [];
  const loadBefore = loadavg();
  try {
    // baseline: the embedded default, units one after another in this process's model thread
    const thread = ModelWorker.create({ threads: 1 });
    const local = new InProcessExecutor(() => thread);
    await timedRun(local, 'warm-in-process', 1);
    const inProcessS = await timedRun(local, 'in-process');
    await (await thread).release();

    const executor = new QueueExecutor({ redisUrl: redis.url, packageRoot: PACKAGE_ROOT });
    children.push(await startWorkerProcess(redis.url, { name: 'w1' }));
    await timedRun(executor, 'warm-1', 2);
    let mark = executor.timings().length;
    const oneS = await timedRun(executor, 'one-worker');
    const oneTimings = executor.timings().slice(mark);

    children.push(await startWorkerProcess(redis.url, { name: 'w2' }));
    await timedRun(executor, 'warm-2', 4);
    mark = executor.timings().length;
    const twoS = await timedRun(executor, 'two-workers');
    const twoTimings = executor.timings().slice(mark);
    await executor.close();
    await Promise.all(children.map((c) => c.kill('SIGTERM')));

    const resume = await resumeBench(dir);
    const flopsPerUnit = 2 * SHAPE.tokens * SHAPE.hidden * SHAPE.inter * REPS;
    console.log(
      JSON.stringify(
        {
          machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAverageBefore: loadBefore.map((x) => round(x, 2)), loadAverageAfter: loadavg().map((x) => round(x, 2)) },
          unit: {
            module: 'bench/units/matmul-unit.ts (synthetic: onnxruntime float32 MatMul; real analysis units are not cut yet)',
            shape: `${REPS} x [${SHAPE.tokens}, ${SHAPE.hidden}] x [${SHAPE.hidden}, ${SHAPE.inter}]`,
            gflopPerUnit: round(flopsPerUnit / 1e9, 2),
            units: UNITS,
            threadsPerWorker: 1,
          },
          throughput: {
            inProcessUnitsPerS: round(UNITS / inProcessS),
            oneWorkerUnitsPerS: round(UNITS / oneS),
            twoWorkersUnitsPerS: round(UNITS / twoS),
            twoOverOne: round(oneS / twoS, 2),
            goalTwoOverOne: 1.7,
            oneWorkerOverInProcess: round(inProcessS / oneS, 3),
          },
          queueOverheadOneWorker: overhead(oneTimings),
          queueOverheadTwoWorkers: overhead(twoTimings),
          resume,
        },
        null,
        2,
      ),
    );
  } finally {
    await Promise.all(children.map((c) => c.kill()));
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

void main();
