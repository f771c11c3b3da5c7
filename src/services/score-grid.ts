/**
 * A grid of variants x settings, each cell a cached scoring run: started
 * together, then collected (aggregate status and progress, and the
 * layer_effects rows of the finished cells). Shared by the transferability
 * and necessity queries and by `frankenscope transfer`.
 */
import type { Setting } from '../engine/analyses/score-variant.js';
import type { LayerEffectRow, RunRow, Warehouse } from '../warehouse/index.js';
import type { AnalysisRequestOptions } from './analysis-service.js';
import type { RunManager } from './run-manager.js';
import type { ResolvedVariant, VariantService } from './variant-service.js';

export interface GridJob<E> {
  entry: E;
  setting: Setting;
  runId: string;
  /** settles when the cell's run is DONE or FAILED */
  settled: Promise<void>;
}

export interface GridCell<E> {
  entry: E;
  setting: Setting;
  runId: string;
  effects: LayerEffectRow[];
}

export interface GridState<E> {
  status: 'DONE' | 'FAILED' | 'RUNNING';
  /** mean progress of the cells, live where computing */
  progress: number;
  /** one row per job, in job order */
  runs: RunRow[];
  /** the finished cells */
  done: GridCell<E>[];
}

/** Starts (or joins) a run for every entry in every setting the probe set supports. */
export async function startGrid<E extends { variant: ResolvedVariant }>(
  variants: VariantService,
  entries: readonly E[],
  probeSet: string,
  options: AnalysisRequestOptions,
): Promise<GridJob<E>[]> {
  const settings = await variants.settingsOf(probeSet, entries.every((e) => e.variant.hasVision));
  const jobs: GridJob<E>[] = [];
  for (const entry of entries) {
    for (const setting of settings) {
      const handle = await variants.score(entry.variant, probeSet, setting, options);
      jobs.push({ entry, setting, runId: handle.runId, settled: handle.settled });
    }
  }
  return jobs;
}

/** The grid's state now: every run read in one statement, effects of the finished ones in another. */
export async function collectGrid<E>(warehouse: Warehouse, runs: RunManager, jobs: readonly GridJob<E>[]): Promise<GridState<E>> {
  const rows = await warehouse.getRuns(jobs.map((j) => j.runId));
  const present = rows.map((r, i) => {
    if (!r) throw new Error(`run '${jobs[i]!.runId}' of the grid is missing from the warehouse`);
    return r;
  });
  const finished = jobs.filter((_, i) => present[i]!.status === 'DONE');
  const effects = await warehouse.layerEffects(finished.map((j) => j.runId));
  const progress = present.reduce((s, r) => s + (r.status === 'RUNNING' ? (runs.liveProgress(r.id)?.progress ?? r.progress) : r.progress), 0);
  return {
    status: present.some((r) => r.status === 'FAILED') ? 'FAILED' : present.every((r) => r.status === 'DONE') ? 'DONE' : 'RUNNING',
    progress: progress / Math.max(1, present.length),
    runs: present,
    done: finished.map((j, i) => ({ entry: j.entry, setting: j.setting, runId: j.runId, effects: effects[i]! })),
  };
}

/** Settles when every cell has. */
export function allSettled(jobs: readonly GridJob<unknown>[]): Promise<void> {
  return Promise.all(jobs.map((j) => j.settled)).then(() => undefined);
}
