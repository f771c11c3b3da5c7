/**
 * Where the units of a run are computed: in this process's model worker
 * (the embedded default) or by workers on a queue. The run manager stages
 * each finished unit and combines them once all are in.
 */
import type { WorkUnit } from '../../engine/units/work-unit.js';

export interface UnitRunHooks {
  /** called once per finished unit, in any order; the executor waits for it before counting the unit done */
  onUnitDone(unit: WorkUnit, result: unknown, worker: string): Promise<void>;
  /** progress inside a running unit, 0..1 */
  onUnitProgress(unit: WorkUnit, fraction: number, message?: string): void;
  /** aborted by cancelRun: stop queued and running units, then reject */
  signal: AbortSignal;
}

export interface UnitExecutor {
  /** a name for messages, e.g. 'in-process' or 'queue redis://…' */
  readonly name: string;
  /** Computes every unit given (the caller leaves out units already staged); rejects on the first unit that fails for good. */
  run(runId: string, units: WorkUnit[], hooks: UnitRunHooks): Promise<void>;
  /** Rejects (QueueUnavailable) when units could not be handed out now; checked before a run is created or resumed. */
  ensureAvailable?(): Promise<void>;
  /** Releases connections; runs still waiting are left to the queue. */
  close?(): Promise<void>;
}
