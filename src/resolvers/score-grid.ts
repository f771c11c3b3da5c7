/**
 * Scores a grid of variants x settings (each cell a cached run), waits for
 * them up to a bound, and reports the runs, their aggregate status and the
 * per-run effects of the finished cells: shared by transferability and necessity.
 */
import type { AnalysisOptions } from '../schema/analysis.input.js';
import { RunStatus } from '../schema/enums.js';
import { NotFoundError } from '../schema/errors.js';
import type { Run } from '../schema/run.type.js';
import type { Setting } from '../schema/variant.type.js';
import { waitForRun } from '../services/run-manager.js';
import type { ResolvedVariant } from '../services/variant-service.js';
import type { LayerEffectRow } from '../warehouse/index.js';
import type { RequestContext } from './context.js';
import { toRun } from './run.mapping.js';

export interface GridCell<E> {
  entry: E;
  setting: Setting;
  runId: string;
  /** the cell's layer_effects rows */
  effects: LayerEffectRow[];
}

export interface GridResult<E> {
  status: 'DONE' | 'FAILED' | 'RUNNING';
  progress: number;
  runs: Run[];
  /** the finished cells */
  done: GridCell<E>[];
}

export async function scoreGrid<E extends { variant: ResolvedVariant }>(
  ctx: RequestContext,
  entries: readonly E[],
  probeSet: string,
  options: AnalysisOptions | null,
  waitSeconds: number,
): Promise<GridResult<E>> {
  const service = ctx.services.variants;
  const settings = await service.settingsOf(probeSet, entries.every((e) => e.variant.hasVision));
  const jobs: { entry: E; setting: Setting; runId: string; settled: Promise<void> }[] = [];
  for (const entry of entries) {
    for (const setting of settings) {
      const handle = await service.score(entry.variant, probeSet, setting, options ?? {});
      jobs.push({ entry, setting: setting as Setting, runId: handle.runId, settled: handle.settled });
    }
  }
  await waitForRun({ runId: '', cached: false, settled: Promise.all(jobs.map((j) => j.settled)).then(() => undefined) }, waitSeconds);
  const runRows = await ctx.services.warehouse.getRuns(jobs.map((j) => j.runId));
  const runs = runRows.map((r, i) => {
    if (!r) throw new NotFoundError('run', jobs[i]!.runId);
    return toRun(r, ctx.services.runs.liveProgress(r.id));
  });
  const finished = jobs.filter((_, i) => runs[i]!.status === RunStatus.DONE);
  const effects = await ctx.services.warehouse.layerEffects(finished.map((j) => j.runId));
  const status = runs.some((r) => r.status === RunStatus.FAILED) ? 'FAILED' : runs.every((r) => r.status === RunStatus.DONE) ? 'DONE' : 'RUNNING';
  return {
    status,
    progress: runs.reduce((s, r) => s + r.progress, 0) / Math.max(1, runs.length),
    runs,
    done: finished.map((j, i) => ({ entry: j.entry, setting: j.setting, runId: j.runId, effects: effects[i]! })),
  };
}
