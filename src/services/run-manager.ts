/**
 * Runs analyses at most once per cache key: concurrent identical requests
 * join the run in flight (single flight), and finished runs are served from
 * the warehouse. A run's rows are stored atomically with its DONE status.
 *
 * A run given as a plan is the coordinator's job: each finished unit is
 * staged in the warehouse as it arrives, so asking again for a run that did
 * not finish (server killed, cancelled, a unit failed) reuses that run and
 * computes only the units not staged yet. A run stores the request that
 * started it (RunSpec.request) so that a restarted server can replay it
 * through `rejoin`, which lets the replay re-join only that run.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { cacheKey, type Warehouse } from '../warehouse/index.js';
import { ENGINE_VERSION } from '../engine/version.js';
import { decodeUnitResult, encodeUnitResult, type UnitPlan, type WorkUnit } from '../engine/units/work-unit.js';
import type { UnitExecutor } from './units/unit-executor.js';

/** The service call that starts a run, stored with it so a restarted server can replay it (src/services/units/resume-interrupted.ts). */
export interface RunRequest {
  service: string;
  method: string;
  /** the method's arguments as JSON */
  args: unknown[];
}

export interface RunSpec<R> {
  kind: string;
  /** canonical parameters, defaults filled in (they enter the cache key) */
  params: unknown;
  /** the inputs by id and content fingerprint (only fingerprints enter the key) */
  inputs: { role: string; id: string; fingerprint: string }[];
  /** the work as one piece; it should stop soon after `signal` aborts (cancelRun). Give this or `plan`. */
  compute?(onProgress: (fraction: number, message?: string) => void, signal: AbortSignal): Promise<R>;
  /** the work cut into deterministic units, computed by the run manager's executor. Give this or `compute`. */
  plan?(): Promise<UnitPlan<R>>;
  /** how to ask for this run again; stored with a new run */
  request?: RunRequest;
  /** writes the result rows and marks the run DONE in one transaction */
  store(warehouse: Warehouse, runId: string, result: R): Promise<void>;
}

export interface RunHandle {
  runId: string;
  /** settles when the run is DONE or FAILED (never rejects) */
  settled: Promise<void>;
  /** true when the run was already DONE in the warehouse */
  cached: boolean;
}

const PROGRESS_WRITE_INTERVAL_MS = 500;

/** The error a cancelled run ends with. */
export const CANCELLED_MESSAGE = 'cancelled by request';

/** A replayed request may only resume the run it was stored with, never start another. */
export class RejoinMismatch extends Error {
  override name = 'RejoinMismatch';
}

export class RunManager {
  private readonly rejoining = new AsyncLocalStorage<string>();
  private readonly inFlight = new Map<string, Promise<RunHandle>>();
  private readonly live = new Map<string, { progress: number; message: string | null }>();
  private readonly cancellers = new Map<string, AbortController>();

  constructor(
    private readonly warehouse: Warehouse,
    private readonly engineVersion = ENGINE_VERSION,
    /** computes the units of runs given as a plan */
    private readonly executor?: UnitExecutor,
  ) {}

  /** The freshest progress of a run computing in this process, if any. */
  liveProgress(runId: string): { progress: number; message: string | null } | undefined {
    return this.live.get(runId);
  }

  /**
   * Asks a run computing in this process to stop; it ends FAILED with
   * 'cancelled' and stores no rows. Returns false when no such run is computing here.
   */
  cancel(runId: string): boolean {
    const controller = this.cancellers.get(runId);
    if (!controller) return false;
    controller.abort();
    return true;
  }

  /**
   * Calls `ask` (a service call that starts or joins a run) so that it may
   * only resume the unfinished run `runId` or join it in flight or done; a
   * request that now keys another run (an input changed since) throws
   * RejoinMismatch before anything is written.
   */
  rejoin(runId: string, ask: () => Promise<RunHandle>): Promise<RunHandle> {
    return this.rejoining.run(runId, ask);
  }

  /** Starts the run or joins the identical one in flight or done. */
  startOrJoin<R>(spec: RunSpec<R>): Promise<RunHandle> {
    const key = cacheKey({
      kind: spec.kind,
      params: spec.params,
      inputFingerprints: spec.inputs.map((i) => i.fingerprint),
      engineVersion: this.engineVersion,
    });
    const joined = this.inFlight.get(key);
    const expected = this.rejoining.getStore();
    if (joined && expected !== undefined) return joined.then((h) => this.expectRun(expected, h));
    // a client that joined a replay refused for another run starts its own (the refused one left inFlight first)
    if (joined) return joined.catch((err: unknown) => (err instanceof RejoinMismatch ? this.startOrJoin(spec) : Promise.reject(err)));
    if (expected !== undefined && !spec.plan) return Promise.reject(new RejoinMismatch(`run '${expected}' is computed in one piece and cannot resume`));
    // registered before the first await so a concurrent caller always joins
    const handle = this.begin(key, spec);
    this.inFlight.set(key, handle);
    handle.then(
      (h) => h.settled.finally(() => this.inFlight.delete(key)),
      () => this.inFlight.delete(key),
    );
    return handle;
  }

  private async begin<R>(key: string, spec: RunSpec<R>): Promise<RunHandle> {
    const existing = await this.warehouse.findRunByCacheKey(key);
    if (existing && existing.status === 'DONE') return { runId: existing.id, settled: Promise.resolve(), cached: true };
    const expected = this.rejoining.getStore();
    if (expected !== undefined && (await this.warehouse.findUnfinishedRunByCacheKey(key))?.id !== expected) {
      throw new RejoinMismatch(`run '${expected}' no longer matches its stored request (a model or probe set changed since it started)`);
    }
    // refused before anything is written: a run that cannot reach its workers is not started
    if (spec.plan) await this.executor?.ensureAvailable?.();
    const runId = (spec.plan && (await this.resumable(key))) || (await this.create(key, spec));
    this.live.set(runId, { progress: 0, message: null });
    const settled = this.execute(runId, spec).finally(() => this.live.delete(runId));
    return { runId, settled, cached: false };
  }

  private expectRun(expected: string, handle: RunHandle): RunHandle {
    if (handle.runId !== expected) throw new RejoinMismatch(`run '${expected}' no longer matches its stored request; it keys run '${handle.runId}'`);
    return handle;
  }

  /** The unfinished run of this cache key, made RUNNING again, whose staged units are kept. */
  private async resumable(key: string): Promise<string | undefined> {
    const unfinished = await this.warehouse.findUnfinishedRunByCacheKey(key);
    if (!unfinished) return undefined;
    await this.warehouse.resumeRun(unfinished.id, unfinished.progress);
    return unfinished.id;
  }

  private async create<R>(key: string, spec: RunSpec<R>): Promise<string> {
    const run = await this.warehouse.createRun({
      kind: spec.kind,
      params: spec.params,
      cacheKey: key,
      engineVersion: this.engineVersion,
      inputs: spec.inputs,
      request: spec.request,
    });
    return run.id;
  }

  private async execute<R>(runId: string, spec: RunSpec<R>): Promise<void> {
    let lastWrite = 0;
    let writing: Promise<void> = Promise.resolve();
    const controller = new AbortController();
    this.cancellers.set(runId, controller);
    const onProgress = (fraction: number, message?: string) => {
      this.live.set(runId, { progress: fraction, message: message ?? null });
      const now = Date.now();
      if (now - lastWrite < PROGRESS_WRITE_INTERVAL_MS) return;
      lastWrite = now;
      writing = writing.then(() => this.warehouse.updateRunProgress(runId, fraction, message).catch(() => undefined));
    };
    try {
      const result = await this.compute(spec, onProgress, controller.signal, runId);
      if (controller.signal.aborted) throw new Error(CANCELLED_MESSAGE);
      await writing;
      await spec.store(this.warehouse, runId, result);
    } catch (err) {
      await writing;
      const message = controller.signal.aborted ? CANCELLED_MESSAGE : (err as Error).message;
      await this.warehouse.failRun(runId, message).catch(() => undefined);
    } finally {
      this.cancellers.delete(runId);
    }
  }

  private async compute<R>(spec: RunSpec<R>, onProgress: (fraction: number, message?: string) => void, signal: AbortSignal, runId: string): Promise<R> {
    if (spec.compute) return spec.compute(onProgress, signal);
    if (!spec.plan) throw new Error(`run kind '${spec.kind}' gives neither compute nor plan`);
    if (!this.executor) throw new Error(`run kind '${spec.kind}' is cut into units but this run manager has no unit executor`);
    const plan = await spec.plan();
    const staged = await this.stagedResults(runId, plan.units);
    const tally = new WorkerTally(plan.units.length);
    for (const unit of staged.values()) tally.add(unit.worker);
    const pending = plan.units.filter((unit) => !staged.has(unit.index));
    if (staged.size > 0) onProgress(tally.fraction(), `resumed with ${tally.summary()}`);
    await this.executor.run(runId, pending, {
      signal,
      onUnitDone: async (unit, result, worker) => {
        const bytes = encodeUnitResult(result);
        await this.warehouse.stageUnit(runId, { unitIndex: unit.index, label: unit.label, worker }, bytes);
        staged.set(unit.index, { bytes, worker });
        tally.add(worker);
        onProgress(tally.fraction(), `unit ${unit.index + 1} (${unit.label}) done by ${worker}; ${tally.summary()}`);
      },
      onUnitProgress: (_unit, fraction, message) => onProgress(tally.fraction(fraction), message),
    });
    // every result goes through its staged bytes, so a resumed run and a run computed in one go combine the same values
    const results = plan.units.map((unit) => {
      const entry = staged.get(unit.index);
      if (!entry) throw new Error(`unit ${unit.index} (${unit.label}) of run '${runId}' has no result`);
      return decodeUnitResult(entry.bytes);
    });
    return plan.combine(results);
  }

  /** The results already staged for the plan's units, by unit index (a plan that changed shape ignores the rest). */
  private async stagedResults(runId: string, units: readonly WorkUnit[]): Promise<Map<number, { bytes: Uint8Array; worker: string }>> {
    const staged = new Map<number, { bytes: Uint8Array; worker: string }>();
    const labels = new Map(units.map((u) => [u.index, u.label]));
    for (const unit of await this.warehouse.stagedUnits(runId)) {
      if (labels.get(unit.unitIndex) === unit.label) staged.set(unit.unitIndex, { bytes: unit.result, worker: unit.worker });
    }
    return staged;
  }
}

/** Units done out of the plan's total, and how many each worker did, for the run's message. */
class WorkerTally {
  private readonly byWorker = new Map<string, number>();
  private done = 0;

  constructor(private readonly total: number) {}

  add(worker: string): void {
    this.done += 1;
    this.byWorker.set(worker, (this.byWorker.get(worker) ?? 0) + 1);
  }

  /** done / total, plus the running unit's own fraction */
  fraction(running = 0): number {
    return this.total === 0 ? 1 : Math.min(1, (this.done + running) / this.total);
  }

  summary(): string {
    const who = [...this.byWorker].map(([worker, n]) => `${worker} ${n}`).join(', ');
    return `${this.done}/${this.total} units done${who ? ` (${who})` : ''}`;
  }
}

/** Waits for a run up to `seconds`; resolves true if it settled in time. */
export async function waitForRun(handle: RunHandle, seconds: number): Promise<boolean> {
  if (seconds <= 0) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), seconds * 1000);
  });
  try {
    return await Promise.race([handle.settled.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
