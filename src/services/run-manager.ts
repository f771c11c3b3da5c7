/**
 * Runs analyses at most once per cache key: concurrent identical requests
 * join the run in flight (single flight), and finished runs are served from
 * the warehouse. A run's rows are stored atomically with its DONE status.
 */
import { cacheKey, type Warehouse } from '../warehouse/index.js';
import { ENGINE_VERSION } from '../engine/version.js';
import type { UnitPlan } from '../engine/units/work-unit.js';
import type { UnitExecutor } from './units/unit-executor.js';

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

export class RunManager {
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

  /** Starts the run or joins the identical one in flight or done. */
  startOrJoin<R>(spec: RunSpec<R>): Promise<RunHandle> {
    const key = cacheKey({
      kind: spec.kind,
      params: spec.params,
      inputFingerprints: spec.inputs.map((i) => i.fingerprint),
      engineVersion: this.engineVersion,
    });
    const joined = this.inFlight.get(key);
    if (joined) return joined;
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
    const run = await this.warehouse.createRun({
      kind: spec.kind,
      params: spec.params,
      cacheKey: key,
      engineVersion: this.engineVersion,
      inputs: spec.inputs,
    });
    this.live.set(run.id, { progress: 0, message: null });
    const settled = this.execute(run.id, spec).finally(() => this.live.delete(run.id));
    return { runId: run.id, settled, cached: false };
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
    const total = plan.units.length;
    const results: unknown[] = new Array(total);
    let done = 0;
    await this.executor.run(runId, plan.units, {
      signal,
      onUnitDone: async (unit, result) => {
        results[unit.index] = result;
        done += 1;
        onProgress(total ? done / total : 1, `unit ${done}/${total} done (${unit.label})`);
      },
      onUnitProgress: (_unit, fraction, message) => onProgress(total ? (done + fraction) / total : 0, message),
    });
    return plan.combine(results);
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
