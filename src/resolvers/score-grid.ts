/**
 * The GraphQL side of a scoring grid (src/services/score-grid.ts): start it,
 * wait up to a bound, and answer with runs in their client shape.
 */
import type { AnalysisOptions } from '../schema/analysis.input.js';
import type { Run } from '../schema/run.type.js';
import type { Setting } from '../schema/variant.type.js';
import { waitForRun } from '../services/run-manager.js';
import { allSettled, collectGrid, startGrid, type GridCell } from '../services/score-grid.js';
import type { ResolvedVariant } from '../services/variant-service.js';
import type { RequestContext } from './context.js';
import { toRun } from './run.mapping.js';

export interface GridResult<E> {
  status: 'DONE' | 'FAILED' | 'RUNNING';
  progress: number;
  runs: Run[];
  /** the schema's Setting enum has the engine's setting names as values */
  done: (Omit<GridCell<E>, 'setting'> & { setting: Setting })[];
}

export async function scoreGrid<E extends { variant: ResolvedVariant }>(
  ctx: RequestContext,
  entries: readonly E[],
  probeSet: string,
  options: AnalysisOptions | null,
  waitSeconds: number,
): Promise<GridResult<E>> {
  const jobs = await startGrid(ctx.services.variants, entries, probeSet, options ?? {});
  await waitForRun({ runId: '', cached: false, settled: allSettled(jobs) }, waitSeconds);
  const state = await collectGrid(ctx.services.warehouse, ctx.services.runs, jobs);
  return {
    status: state.status,
    progress: state.progress,
    runs: state.runs.map((r) => toRun(r, ctx.services.runs.liveProgress(r.id))),
    done: state.done as unknown as GridResult<E>['done'],
  };
}
