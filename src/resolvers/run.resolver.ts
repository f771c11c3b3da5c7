import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { RunStatus } from '../schema/enums.js';
import { BadUserInputError, NotFoundError } from '../schema/errors.js';
import { Run } from '../schema/run.type.js';
import type { RequestContext } from './context.js';
import { toRun } from './run.mapping.js';
import { translating } from './translate-error.js';
import { idArg, intArg } from './validate-args.js';

@Resolver(() => Run)
export class RunResolver {
  @Query(() => Run, { nullable: true })
  run(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Run | null> {
    idArg('id', id);
    return translating(async () => {
      const row = await ctx.loaders.run.load(id);
      return row ? toRun(row, ctx.services.runs.liveProgress(row.id)) : null;
    });
  }

  @Query(() => [Run], { description: 'most recent first' })
  runs(
    @Arg('status', () => RunStatus, { nullable: true }) status: RunStatus | null,
    @Arg('first', () => Int, { nullable: true, description: 'at most this many (default 50, max 1000)' }) first: number | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Run[]> {
    return translating(async () => {
      const limit = intArg('first', first, { min: 1, max: 1000 }, 50);
      const rows = await ctx.services.warehouse.listRuns({ status: status ?? undefined, first: limit });
      return rows.map((r) => toRun(r, ctx.services.runs.liveProgress(r.id)));
    });
  }

  @Mutation(() => Run, { description: 'Stops a QUEUED or RUNNING run; it ends FAILED with the error "cancelled by request" and stores no rows.' })
  cancelRun(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Run> {
    idArg('id', id);
    return translating(async () => {
      const row = await ctx.loaders.run.load(id);
      if (!row) throw new NotFoundError('run', id);
      if (!ctx.services.runs.cancel(id)) {
        throw new BadUserInputError(`run '${id}' is ${row.status} and not computing in this server: nothing to cancel`, 'id');
      }
      return toRun(row, ctx.services.runs.liveProgress(id));
    });
  }
}
