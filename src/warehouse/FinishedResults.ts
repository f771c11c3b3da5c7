/**
 * Finished results never change: a run's rows are written in the same
 * transaction that marks it DONE, and a DONE or FAILED run is never updated
 * again (every status update is guarded by "still QUEUED/RUNNING"). So once
 * read, they are served from memory, keyed by run (and the DONE run of a
 * cache key by that key), without a statement on the warehouse's one owner
 * connection. Bounded: the least recently used runs are dropped first.
 * Callers share the cached objects and must not mutate them.
 */
import type { GroupStatRow, LayerEffectRow, LayerStatRow, RunRow } from './types.js';

/** Per-run results kept in memory. */
export interface FinishedEntry {
  run?: RunRow;
  layerStats?: LayerStatRow[];
  groupStats?: GroupStatRow[];
  layerEffects?: LayerEffectRow[];
}

export type FinishedPart = Exclude<keyof FinishedEntry, 'run'>;

export class FinishedResults {
  readonly #byRun = new Map<string, FinishedEntry>();
  readonly #doneByCacheKey = new Map<string, string>();

  constructor(private readonly maxRuns = 512) {}

  /** A run row, when it is known to be finished. */
  run(id: string): RunRow | undefined {
    return this.#touch(id)?.run;
  }

  /** Keeps a run row if it is finished (DONE or FAILED); active rows are not kept. */
  rememberRun(row: RunRow): void {
    if (row.status !== 'DONE' && row.status !== 'FAILED') return;
    this.#entry(row.id).run = row;
    if (row.status === 'DONE') this.#doneByCacheKey.set(row.cacheKey, row.id);
  }

  /** Drops what is kept of a run that becomes active again (a FAILED run resumed). */
  forget(id: string): void {
    this.#byRun.delete(id);
  }

  /** The DONE run of a cache key, when one was seen. */
  doneRunFor(cacheKey: string): RunRow | undefined {
    const id = this.#doneByCacheKey.get(cacheKey);
    return id === undefined ? undefined : this.run(id);
  }

  part<P extends FinishedPart>(runId: string, part: P): FinishedEntry[P] {
    return this.#touch(runId)?.[part];
  }

  /**
   * Keeps result rows read for a run. Only non-empty lists are kept: rows
   * exist only once their run is DONE, while an empty list may belong to a
   * run that is still computing.
   */
  rememberPart<P extends FinishedPart>(runId: string, part: P, rows: NonNullable<FinishedEntry[P]>): void {
    if (rows.length > 0) this.#entry(runId)[part] = rows;
  }

  #touch(id: string): FinishedEntry | undefined {
    const entry = this.#byRun.get(id);
    if (entry) {
      // re-insert: Map order is the recency order
      this.#byRun.delete(id);
      this.#byRun.set(id, entry);
    }
    return entry;
  }

  #entry(id: string): FinishedEntry {
    let entry = this.#touch(id);
    if (!entry) {
      entry = {};
      this.#byRun.set(id, entry);
      if (this.#byRun.size > this.maxRuns) {
        const [oldest, dropped] = this.#byRun.entries().next().value as [string, FinishedEntry];
        this.#byRun.delete(oldest);
        if (dropped.run && this.#doneByCacheKey.get(dropped.run.cacheKey) === oldest) this.#doneByCacheKey.delete(dropped.run.cacheKey);
      }
    }
    return entry;
  }
}
