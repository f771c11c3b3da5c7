/**
 * The fields every per-layer analysis result shares (run, status, progress,
 * layers, examples), defined once and bound to each result type.
 */
import { Arg, Ctx, FieldResolver, Float, Int, Resolver, Root, type ClassType } from 'type-graphql';
import { ExampleResult, LayerEffect } from '../schema/analysis.type.js';
import { RunStatus, type Section } from '../schema/enums.js';
import { NotFoundError } from '../schema/errors.js';
import { Run } from '../schema/run.type.js';
import type { RequestContext } from './context.js';
import { toRun } from './run.mapping.js';
import { translating } from './translate-error.js';
import { intArg, LAYER_INDEX, textArg, TEXT } from './validate-args.js';
import { PAGE } from './validate-inputs.js';

interface RunRoot {
  runId: string;
}

/** A resolver class adding the shared fields to `type`. */
export function layerAnalysisFields<T extends RunRoot>(type: ClassType<T>) {
  @Resolver(() => type)
  class LayerAnalysisFields {
    async runOf(root: RunRoot, ctx: RequestContext): Promise<Run> {
      ctx.loaders.run.clear(root.runId);
      const row = await ctx.loaders.run.load(root.runId);
      if (!row) throw new NotFoundError('run', root.runId);
      return toRun(row, ctx.services.runs.liveProgress(row.id));
    }

    @FieldResolver(() => Run)
    run(@Root() root: T, @Ctx() ctx: RequestContext): Promise<Run> {
      return translating(() => this.runOf(root, ctx));
    }

    @FieldResolver(() => RunStatus)
    status(@Root() root: T, @Ctx() ctx: RequestContext): Promise<RunStatus> {
      return translating(async () => (await this.runOf(root, ctx)).status);
    }

    @FieldResolver(() => Float, { description: '0..1' })
    progress(@Root() root: T, @Ctx() ctx: RequestContext): Promise<number> {
      return translating(async () => (await this.runOf(root, ctx)).progress);
    }

    @FieldResolver(() => [LayerEffect], { description: "per-layer numbers (index null: a baseline without intervention), tasks and 'all'; empty until DONE" })
    layers(@Root() root: T, @Ctx() ctx: RequestContext): Promise<LayerEffect[]> {
      return translating(async () => {
        const run = await ctx.loaders.run.load(root.runId);
        if (run?.status !== 'DONE') return [];
        return (await ctx.loaders.layerEffects.load(root.runId))
          .filter((r) => r.value !== null)
          .map((r) => ({
            index: r.layerIndex,
            section: (r.section ?? null) as Section | null,
            task: r.task,
            metric: r.metric,
            value: r.value!,
            ciLow: r.ciLow,
            ciHigh: r.ciHigh,
            n: r.n ?? 0,
          }));
      });
    }

    @FieldResolver(() => [ExampleResult], { description: 'per-example outcomes ordered by example id; page with first/after (after = the last example id seen)' })
    examples(
      @Root() root: T,
      @Arg('layer', () => Int, { nullable: true, description: 'unified layer index; omit for all rows' }) layer: number | null,
      @Arg('baseline', () => Boolean, { nullable: true, description: 'true: only the rows without a layer (baselines)' }) baseline: boolean | null,
      @Arg('first', () => Int, { nullable: true, description: 'examples per page (default 100, at most 1000)' }) first: number | null,
      @Arg('after', () => String, { nullable: true }) after: string | null,
      @Ctx() ctx: RequestContext,
    ): Promise<ExampleResult[]> {
      intArg('layer', layer, LAYER_INDEX);
      textArg('after', after, { maxLength: TEXT.name, allowEmpty: true });
      return translating(async () => {
        const limit = intArg('first', first, PAGE, 100);
        const run = await ctx.loaders.run.load(root.runId);
        if (run?.status !== 'DONE') return [];
        const rows = await ctx.services.warehouse.exampleResults({
          runId: root.runId,
          layerIndex: baseline ? null : (layer ?? undefined),
          first: limit,
          after: after ?? undefined,
        });
        return rows.map((r) => ({
          exampleId: r.exampleId,
          task: r.task,
          layer: r.layerIndex,
          condition: r.condition,
          answer: r.answer,
          correct: r.correct,
          changed: r.changed,
          transferred: r.transferred,
          score: r.score,
        }));
      });
    }
  }
  return LayerAnalysisFields;
}
