/**
 * The coordinator's side of the queue: hands a run's units to BullMQ and
 * collects their results. BullMQ owns waiting, locking, stalled-unit
 * recovery and bounded retries; this class only enqueues (idempotently, by
 * job id), waits for each unit's outcome and passes it to the run manager,
 * which stages it before the job is removed from Redis.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { decodeUnitResult, type WorkUnit } from '../engine/units/work-unit.js';
import { QueueUnavailable } from '../services/units/queue-unavailable.js';
import type { UnitExecutor, UnitRunHooks } from '../services/units/unit-executor.js';
import { quickClient, safeRedisUrl } from './redis-url.js';
import { CANCEL_CHANNEL, UNIT_QUEUE, cancelledKey, toJobData, unitJobId, type UnitJobData, type UnitJobResult } from './unit-jobs.js';

export interface QueueExecutorOptions {
  redisUrl: string;
  /** the package root units' modules are given relative to */
  packageRoot: string;
  /** tries of one unit before its run fails (a poison unit) [3] */
  attempts?: number;
  /** wait between tries [1000 ms] */
  backoffMs?: number;
  /** how long a health check waits for Redis [1000 ms] */
  pingTimeoutMs?: number;
}

/** Where a unit's time went, for the bench (all epoch ms on the clocks involved). */
export interface UnitTiming {
  unitIndex: number;
  enqueuedAt: number;
  startedAt: number;
  finishedAt: number;
  storedAt: number;
  computeMs: number;
  worker: string;
}

const CLOSE_TIMEOUT_MS = 2000;

interface ActiveRun {
  runId: string;
  hooks: UnitRunHooks;
  /** units not collected yet, by job id */
  pending: Map<string, WorkUnit>;
}

export class QueueExecutor implements UnitExecutor {
  readonly name: string;
  readonly #options: Required<QueueExecutorOptions>;
  #bull: { queue: Queue<UnitJobData, UnitJobResult>; events: QueueEvents } | undefined;
  readonly #control: Redis;
  #lastError: string | undefined;
  readonly #runs = new Map<string, ActiveRun>();
  readonly #timings: UnitTiming[] = [];

  constructor(options: QueueExecutorOptions) {
    this.#options = { attempts: 3, backoffMs: 1000, pingTimeoutMs: 1000, ...options };
    this.name = `queue ${safeRedisUrl(options.redisUrl)}`;
    this.#control = quickClient(options.redisUrl);
    // kept for the QUEUE_UNAVAILABLE message (refused connection, wrong password, ...)
    this.#control.on('error', (error: Error) => (this.#lastError = error.message));
    this.#control.on('ready', () => (this.#lastError = undefined));
    // Redis back after an outage, perhaps restarted empty: queue again what is still awaited (same job ids, so no duplicates)
    this.#control.on('ready', () => {
      for (const run of this.#runs.values()) void this.#enqueue(run, [...run.pending.values()]).catch(() => undefined);
    });
  }

  /**
   * BullMQ's queue and events, made on first use once Redis answered: made
   * earlier, their close would wait for a Redis that never came, and a
   * server whose runs all compute in process would never need them.
   */
  get #queue(): Queue<UnitJobData, UnitJobResult> {
    return this.#connected().queue;
  }

  get #events(): QueueEvents {
    return this.#connected().events;
  }

  #connected(): { queue: Queue<UnitJobData, UnitJobResult>; events: QueueEvents } {
    if (!this.#bull) {
      const connection = { url: this.#options.redisUrl };
      const queue = new Queue<UnitJobData, UnitJobResult>(UNIT_QUEUE, { connection });
      const events = new QueueEvents(UNIT_QUEUE, { connection });
      // connection errors surface through ensureAvailable; unheard 'error' events would end the process
      queue.on('error', () => undefined);
      events.on('error', () => undefined);
      events.on('progress', ({ jobId, data }) => this.#onProgress(jobId, data));
      // every unit waited for holds a 'closing' listener until it settles (waitUntilFinished): a run of many units is not a leak
      queue.setMaxListeners(0);
      events.setMaxListeners(0);
      this.#bull = { queue, events };
    }
    return this.#bull;
  }

  /** Per-unit timings of the units collected so far (the bench reads them). */
  timings(): readonly UnitTiming[] {
    return this.#timings;
  }

  async ensureAvailable(): Promise<void> {
    const url = safeRedisUrl(this.#options.redisUrl);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#options.pingTimeoutMs} ms (${this.#control.status})`)), this.#options.pingTimeoutMs);
    });
    try {
      // just started, or reconnecting after a blip: give it the same moment a PING gets
      if (this.#control.status !== 'ready') await Promise.race([new Promise((resolve) => this.#control.once('ready', resolve)), deadline]);
      await Promise.race([this.#control.ping(), deadline]);
    } catch (error) {
      const last = this.#lastError ? `; last error: ${this.#lastError}` : '';
      throw new QueueUnavailable(url, `${(error as Error).message}${last}`);
    } finally {
      clearTimeout(timer);
      deadline.catch(() => undefined);
    }
    this.#connected();
  }

  async run(runId: string, units: WorkUnit[], hooks: UnitRunHooks): Promise<void> {
    hooks.signal.throwIfAborted();
    if (units.length === 0) return;
    const run: ActiveRun = { runId, hooks, pending: new Map(units.map((u) => [unitJobId(runId, u.index), u])) };
    let onAbort: (() => void) | undefined;
    const cancelled = new Promise<never>((_, reject) => {
      onAbort = () => reject(new Error('cancelled'));
      hooks.signal.addEventListener('abort', onAbort, { once: true });
    });
    cancelled.catch(() => undefined);
    this.#runs.set(runId, run);
    try {
      // a run asked again after a cancel: its units may be taken again
      await this.#control.del(cancelledKey(runId));
      await this.#enqueue(run, units);
      await Promise.race([Promise.all(units.map((unit) => this.#collect(run, unit))), cancelled]);
    } catch (error) {
      await this.#withdraw(run).catch(() => undefined);
      throw error;
    } finally {
      if (onAbort) hooks.signal.removeEventListener('abort', onAbort);
      this.#runs.delete(runId);
    }
  }

  async close(): Promise<void> {
    // BullMQ's close and disconnect wait for a connection that may never come (Redis down): bounded
    this.#control.disconnect();
    if (!this.#bull) return;
    let timer: NodeJS.Timeout | undefined;
    const closed = Promise.allSettled([this.#bull.queue.close(), this.#bull.events.close()]);
    await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, CLOSE_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }

  async #enqueue(run: ActiveRun, units: readonly WorkUnit[]): Promise<void> {
    for (const unit of units) {
      // a unit that failed for good in an earlier try of this run starts over with fresh attempts
      const earlier = await this.#queue.getJob(unitJobId(run.runId, unit.index));
      if (earlier && (await earlier.isFailed())) await earlier.remove();
    }
    await this.#queue.addBulk(
      units.map((unit) => ({
        name: unit.label,
        data: toJobData(run.runId, unit, this.#options.packageRoot),
        opts: {
          jobId: unitJobId(run.runId, unit.index),
          attempts: this.#options.attempts,
          backoff: { type: 'fixed', delay: this.#options.backoffMs },
          // the coordinator removes a job once its result is staged; a failed one stays to be read
          removeOnComplete: false,
          removeOnFail: false,
        },
      })),
    );
  }

  async #collect(run: ActiveRun, unit: WorkUnit): Promise<void> {
    const id = unitJobId(run.runId, unit.index);
    const job = (await this.#queue.getJob(id)) as Job<UnitJobData, UnitJobResult> | undefined;
    if (!job) throw new Error(`unit ${unit.index} (${unit.label}) vanished from the queue before it finished`);
    let answer: UnitJobResult;
    try {
      const raw = (await job.waitUntilFinished(this.#events)) as UnitJobResult | string;
      answer = typeof raw === 'string' ? (JSON.parse(raw) as UnitJobResult) : raw;
    } catch (error) {
      const failed = await this.#queue.getJob(id).catch(() => undefined);
      const attempts = failed?.attemptsMade ?? this.#options.attempts;
      throw new Error(`unit ${unit.index} (${unit.label}) failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${(error as Error).message}`);
    }
    if (run.hooks.signal.aborted) return;
    await run.hooks.onUnitDone(unit, decodeUnitResult(Buffer.from(answer.result, 'base64')), answer.worker);
    run.pending.delete(id);
    this.#timings.push({
      unitIndex: unit.index,
      enqueuedAt: job.timestamp,
      startedAt: answer.startedAt,
      finishedAt: answer.finishedAt,
      storedAt: Date.now(),
      computeMs: answer.computeMs,
      worker: answer.worker,
    });
    await job.remove().catch(() => undefined);
  }

  /** A cancelled or failed run: queued units are removed, running ones told to stop; finished ones stay to be collected if it is asked again. */
  async #withdraw(run: ActiveRun): Promise<void> {
    // no unit of the run starts from now on; queued ones are removed before the running ones are
    // stopped, so a worker freed by the stop does not take one of them in between
    await this.#control.set(cancelledKey(run.runId), '1', 'EX', 24 * 3600);
    for (const id of run.pending.keys()) {
      const job = await this.#queue.getJob(id);
      if (!job) continue;
      const state = await job.getState();
      if (state !== 'active' && state !== 'completed' && state !== 'failed') await job.remove().catch(() => undefined);
    }
    await this.#control.publish(CANCEL_CHANNEL, run.runId);
  }

  #onProgress(jobId: string, data: unknown): void {
    for (const run of this.#runs.values()) {
      const unit = run.pending.get(jobId);
      if (!unit) continue;
      const { fraction, message } = (data ?? {}) as { fraction?: number; message?: string };
      if (typeof fraction === 'number') run.hooks.onUnitProgress(unit, fraction, message);
      return;
    }
  }
}
