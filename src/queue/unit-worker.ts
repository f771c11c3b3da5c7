/**
 * The worker's side of the queue (`frankenscope worker`): takes units from
 * BullMQ, checks their input fingerprints, runs them in this process's own
 * model worker threads (one per concurrent unit) and answers with the
 * result bytes. Locks, stalled units (a worker killed mid-unit) and retries
 * are BullMQ's.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ModelWorker } from '../engine/runtime/model-worker.js';
import { encodeUnitResult } from '../engine/units/work-unit.js';
import { InputMismatch, InputVerifier } from './input-verifier.js';
import { CANCEL_CHANNEL, UNIT_QUEUE, cancelledKey, moduleHref, type UnitJobData, type UnitJobResult } from './unit-jobs.js';

export interface UnitWorkerOptions {
  redisUrl: string;
  packageRoot: string;
  /** where this worker may find the checkpoints and probe sets units name */
  modelRoots: readonly string[];
  /** in messages and the run's progress [host:pid] */
  name?: string;
  /** units computed at once, each in its own model worker thread [1] */
  concurrency?: number;
  /** intra-op threads of each model worker thread [onnxruntime's default] */
  threads?: number;
  /** how long a unit's lock lasts without renewal; a killed worker's unit goes to another after about this long [30000] */
  lockDurationMs?: number;
  /** how often this worker looks for units whose worker died [BullMQ's 30000] */
  stalledIntervalMs?: number;
  /** a unit whose worker died this many times more fails [1] */
  maxStalledCount?: number;
  /** a line per unit started and finished */
  log?: (line: string) => void;
}

export interface UnitWorker {
  readonly name: string;
  close(): Promise<void>;
}

/** Model worker threads handed to one unit at a time; a thread that died is replaced. */
class ThreadPool {
  readonly #idle: ModelWorker[] = [];

  constructor(private readonly threads: number | undefined) {}

  async acquire(): Promise<ModelWorker> {
    return this.#idle.pop() ?? (await ModelWorker.create({ threads: this.threads }));
  }

  release(worker: ModelWorker, healthy: boolean): void {
    if (healthy) this.#idle.push(worker);
    else void worker.release();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#idle.splice(0).map((w) => w.release()));
  }
}

const PROGRESS_INTERVAL_MS = 250;

export async function startUnitWorker(options: UnitWorkerOptions): Promise<UnitWorker> {
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const log = options.log ?? (() => undefined);
  const verifier = new InputVerifier(options.modelRoots);
  const pool = new ThreadPool(options.threads);
  const running = new Map<string, { runId: string; controller: AbortController }>();
  const control = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const subscriber = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  control.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  await subscriber.subscribe(CANCEL_CHANNEL);
  subscriber.on('message', (_channel: string, runId: string) => {
    for (const job of running.values()) if (job.runId === runId) job.controller.abort();
  });

  const processUnit = async (job: Job<UnitJobData, UnitJobResult>): Promise<UnitJobResult> => {
    const { runId, unit } = job.data;
    if (await control.exists(cancelledKey(runId))) throw new UnrecoverableError(`run ${runId} was cancelled`);
    let input: unknown;
    try {
      input = await verifier.localize(unit.input, unit.inputs);
    } catch (error) {
      // the same worker would refuse it again: no retry here
      if (error instanceof InputMismatch) throw new UnrecoverableError(`worker ${name} refused the unit: ${error.message}`);
      throw error;
    }
    const controller = new AbortController();
    running.set(job.id!, { runId, controller });
    const thread = await pool.acquire();
    let healthy = true;
    let lastProgress = 0;
    const startedAt = Date.now();
    log(`unit ${unit.index} (${unit.label}) of run ${runId}: started`);
    try {
      const result = await thread.run(moduleHref(unit.packageModule, options.packageRoot), unit.exportName, input, {
        signal: controller.signal,
        onProgress: (p) => {
          const now = Date.now();
          if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
          lastProgress = now;
          const { done, total, message } = p as { done: number; total: number; message?: string };
          void job.updateProgress({ fraction: total ? done / total : 0, message }).catch(() => undefined);
        },
      });
      const finishedAt = Date.now();
      log(`unit ${unit.index} (${unit.label}) of run ${runId}: done in ${finishedAt - startedAt} ms`);
      return { result: encodeUnitResult(result).toString('base64'), worker: name, computeMs: finishedAt - startedAt, startedAt, finishedAt };
    } catch (error) {
      if (controller.signal.aborted) throw new UnrecoverableError(`run ${runId} was cancelled`);
      healthy = !/model worker (exited|released)/.test((error as Error).message);
      throw error;
    } finally {
      running.delete(job.id!);
      pool.release(thread, healthy);
    }
  };

  const worker = new Worker<UnitJobData, UnitJobResult>(UNIT_QUEUE, processUnit, {
    connection: { url: options.redisUrl },
    concurrency: options.concurrency ?? 1,
    ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs } : {}),
    ...(options.stalledIntervalMs ? { stalledInterval: options.stalledIntervalMs } : {}),
    ...(options.maxStalledCount !== undefined ? { maxStalledCount: options.maxStalledCount } : {}),
  });
  worker.on('error', (error) => log(`queue connection: ${error.message}`));
  worker.on('failed', (job, error) => job && log(`unit ${job.data.unit.index} of run ${job.data.runId}: failed (attempt ${job.attemptsMade}): ${error.message}`));
  await worker.waitUntilReady();

  return {
    name,
    async close() {
      await worker.close();
      await pool.close();
      subscriber.disconnect();
      control.disconnect();
    },
  };
}
