/**
 * Scale-out: units/s of one queue worker (1 thread) against two (1 thread
 * each) in the same run of this script, the in-process executor as the
 * baseline, the queue's overhead per unit against the unit's compute, and
 * the time to resume a killed run. Prints JSON.
 *
 *   npx tsx bench/scale-out.ts [--units 10] [--reps 12] [--only synthetic|real]
 *
 * Needs redis-server (it starts its own on a free loopback port). Two unit
 * kinds: `synthetic`, bench/units/matmul-unit.ts (onnxruntime float32
 * MatMuls, compute-bound), and `real`, the units of a zero-ablation of the
 * shipped demo/sft over its 300 reasoning probes as AnalysisService plans
 * it (19 units of 16 probes x 6 layers, teacher-forced); the real resume is
 * a served run killed with SIGKILL and restarted without being asked again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.js';
import { loadConfig, PACKAGE_ROOT } from '../src/config.js';
import { ModelWorker } from '../src/engine/runtime/model-worker.js';
import { encodeUnitResult, type WorkUnit } from '../src/engine/units/work-unit.js';
import { QueueExecutor, type UnitTiming } from '../src/queue/queue-executor.js';
import { RunManager, type RunHandle, type RunSpec } from '../src/services/run-manager.js';
import { InProcessExecutor } from '../src/services/units/in-process-executor.js';
import type { UnitExecutor } from '../src/services/units/unit-executor.js';
import { Warehouse } from '../src/warehouse/index.js';
import { startRedis } from '../test/helpers/redis.js';
import { startServerProcess, type ServerChild } from '../test/helpers/server-process.js';
import { startCoordinatorProcess, startWorkerProcess, type Child } from '../test/helpers/units/processes.js';
import type { MatmulUnitInput } from './units/matmul-unit.js';

const { values: args } = parseArgs({ options: { units: { type: 'string', default: '10' }, reps: { type: 'string', default: '12' }, only: { type: 'string' } } });
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
  return timedSpec(executor, tag, matmulSpec(tag, units));
}

/** Seconds from asking to DONE for `spec` on a fresh warehouse; `tag` enters the cache key so every run computes. */
async function timedSpec(executor: UnitExecutor, tag: string, spec: RunSpec<unknown>): Promise<number> {
  const warehouse = await Warehouse.open(':memory:');
  try {
    const runs = new RunManager(warehouse, 'bench', executor);
    const t0 = performance.now();
    const handle = await runs.startOrJoin({ ...spec, params: { bench: tag, of: spec.params } });
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

const DEMO_ZERO_ABLATION = { model: 'demo/sft', probeSet: 'demo/questions', options: { split: 'reasoning', scoring: 'TEACHER_FORCED' as const } };
const DEMO_ZERO_ABLATION_QUERY = `{ localization(model: "demo/sft", probeSet: "demo/questions", method: ZERO_ABLATION, options: { split: "reasoning", scoring: TEACHER_FORCED }, waitSeconds: 0) { run { id } } }`;

/** The RunSpec AnalysisService gives for the demo zero-ablation, captured instead of run (the bench runs it on its own executors). */
async function demoZeroAblationSpec(): Promise<RunSpec<unknown>> {
  const app = await createApp({ ...loadConfig({}), warehousePath: ':memory:', lakePath: null, redisUrl: null, engineThreads: 1 });
  try {
    let captured: RunSpec<unknown> | undefined;
    app.services.runs.startOrJoin = <R>(spec: RunSpec<R>): Promise<RunHandle> => {
      captured = spec as RunSpec<unknown>;
      return Promise.resolve({ runId: 'captured', settled: Promise.resolve(), cached: true });
    };
    await app.services.analyses.localization(DEMO_ZERO_ABLATION.model, DEMO_ZERO_ABLATION.probeSet, 'ZERO_ABLATION', DEMO_ZERO_ABLATION.options);
    if (!captured) throw new Error('the analysis service started no run');
    return captured;
  } finally {
    await app.close();
  }
}

/** The first `n` units of a spec's plan, stored as nothing: to warm a worker up (model loaded, sessions built). */
function warmUpSpec(spec: RunSpec<unknown>, n: number): RunSpec<unknown> {
  return {
    ...spec,
    plan: async () => ({ units: (await spec.plan!()).units.slice(0, n), combine: () => null }),
    store: (warehouse, runId) => warehouse.completeAnalysisRun(runId, { layerEffects: [] }),
  };
}

/** One worker, then two, on the same spec; each configuration warmed up on 2 units first. */
async function throughput(redisUrl: string, spec: RunSpec<unknown>, units: number, children: Child[], inProcessS: number) {
  const executor = new QueueExecutor({ redisUrl, packageRoot: PACKAGE_ROOT });
  const started: Child[] = [];
  try {
    started.push(await startWorkerProcess(redisUrl, { name: 'w1' }));
    children.push(...started);
    await timedSpec(executor, 'warm-1', warmUpSpec(spec, 2));
    let mark = executor.timings().length;
    const oneS = await timedSpec(executor, 'one-worker', spec);
    const oneTimings = executor.timings().slice(mark);
    started.push(await startWorkerProcess(redisUrl, { name: 'w2' }));
    children.push(started[1]!);
    await timedSpec(executor, 'warm-2', warmUpSpec(spec, 4));
    mark = executor.timings().length;
    const twoS = await timedSpec(executor, 'two-workers', spec);
    const twoTimings = executor.timings().slice(mark);
    return {
      throughput: {
        inProcessUnitsPerS: round(units / inProcessS),
        oneWorkerUnitsPerS: round(units / oneS),
        twoWorkersUnitsPerS: round(units / twoS),
        twoOverOne: round(oneS / twoS, 2),
        goalTwoOverOne: 1.7,
        oneWorkerOverInProcess: round(inProcessS / oneS, 3),
      },
      queueOverheadOneWorker: overhead(oneTimings),
      queueOverheadTwoWorkers: overhead(twoTimings),
    };
  } finally {
    await executor.close();
    await Promise.all(started.map((c) => c.kill('SIGTERM')));
  }
}

/** Seconds of the in-process executor (one model thread, 1 intra-op thread) on `spec`, after a warm-up on 1 unit. */
async function inProcessSeconds(spec: RunSpec<unknown>): Promise<number> {
  const thread = ModelWorker.create({ threads: 1 });
  try {
    const local = new InProcessExecutor(() => thread);
    await timedSpec(local, 'warm-in-process', warmUpSpec(spec, 1));
    return await timedSpec(local, 'in-process', spec);
  } finally {
    await (await thread).release();
  }
}

async function syntheticBench(redisUrl: string, dir: string, children: Child[]) {
  const spec = matmulSpec('synthetic', UNITS) as RunSpec<unknown>;
  const inProcessS = await inProcessSeconds(spec);
  const measured = await throughput(redisUrl, spec, UNITS, children, inProcessS);
  const flopsPerUnit = 2 * SHAPE.tokens * SHAPE.hidden * SHAPE.inter * REPS;
  return {
    unit: {
      module: 'bench/units/matmul-unit.ts (synthetic: onnxruntime float32 MatMul)',
      shape: `${REPS} x [${SHAPE.tokens}, ${SHAPE.hidden}] x [${SHAPE.hidden}, ${SHAPE.inter}]`,
      gflopPerUnit: round(flopsPerUnit / 1e9, 2),
      units: UNITS,
      threadsPerWorker: 1,
    },
    ...measured,
    resume: await resumeBench(dir),
  };
}

/** A served demo zero-ablation with two workers, SIGKILLed once `killAt` units are staged and started again without asking. */
async function realResumeBench(redisUrl: string, dir: string, children: Child[], killAt: number) {
  const workers = await Promise.all(['r1', 'r2'].map((name) => startWorkerProcess(redisUrl, { name })));
  children.push(...workers);
  const warehouse = join(dir, 'real-resume.duckdb');
  const staged = async (server: ServerChild, runId: string) =>
    (await server.query<{ sql: { rows: number[][] } }>(`query($q: String!) { sql(query: $q) { rows } }`, { q: `SELECT count(*)::INTEGER FROM run_units WHERE run_id = '${runId}'` })).sql.rows[0]![0]!;
  try {
    const first = await startServerProcess({ warehouse, redisUrl });
    children.push(first);
    const runId = (await first.query<{ localization: { run: { id: string } } }>(DEMO_ZERO_ABLATION_QUERY)).localization.run.id;
    let stagedAtKill = 0;
    while ((stagedAtKill = await staged(first, runId)) < killAt) await new Promise((r) => setTimeout(r, 50));
    await first.kill('SIGKILL');
    const t0 = performance.now();
    const second = await startServerProcess({ warehouse, redisUrl });
    children.push(second);
    const listening = performance.now() - t0;
    await second.waitForText(`interrupted run ${runId}: `, 120_000);
    const resumed = performance.now() - t0;
    let status = 'RUNNING';
    while (status !== 'DONE') {
      const { run } = await second.query<{ run: { status: string; error: string | null } }>(`query($id: ID!) { run(id: $id) { status error } }`, { id: runId });
      if (run.status === 'FAILED' && run.error !== 'interrupted: server stopped') throw new Error(`resumed run failed: ${run.error}`);
      status = run.status;
      if (status !== 'DONE') await new Promise((r) => setTimeout(r, 50));
    }
    const done = performance.now() - t0;
    await second.kill('SIGTERM');
    return {
      unit: 'demo zero-ablation (19 units), served with a queue and two workers (1 thread each); server SIGKILLed, restarted, not asked again',
      stagedAtKill,
      resumedBy: /interrupted run \S+: (\w+)/.exec(second.output())?.[1],
      restartToListeningMs: Math.round(listening),
      restartToResumedMs: Math.round(resumed),
      restartToDoneMs: Math.round(done),
    };
  } finally {
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  }
}

async function realBench(redisUrl: string, dir: string, children: Child[]) {
  const spec = await demoZeroAblationSpec();
  const units = (await spec.plan!()).units.length;
  const inProcessS = await inProcessSeconds(spec);
  const measured = await throughput(redisUrl, spec, units, children, inProcessS);
  return {
    unit: {
      module: 'src/engine/analyses/localize-reasoning.ts localizeReasoningUnit (real: the units AnalysisService plans)',
      request: `zero ablation of demo/sft over demo/questions split reasoning (300 probes), teacher-forced, baseline + 6 layers`,
      units,
      threadsPerWorker: 1,
    },
    ...measured,
    resume: await realResumeBench(redisUrl, dir, children, Math.floor(units / 2)),
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'frankenscope-scale-out-'));
  const redis = await startRedis();
  const children: Child[] = [];
  const loadBefore = loadavg();
  try {
    const synthetic = args.only === 'real' ? undefined : await syntheticBench(redis.url, dir, children);
    const real = args.only === 'synthetic' ? undefined : await realBench(redis.url, dir, children);
    console.log(
      JSON.stringify(
        {
          machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAverageBefore: loadBefore.map((x) => round(x, 2)), loadAverageAfter: loadavg().map((x) => round(x, 2)) },
          synthetic,
          real,
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
