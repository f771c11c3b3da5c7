import { Arg, Ctx, FieldResolver, Float, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { CharacterizationOptions } from '../schema/characterization.input.js';
import { Characterization, GroupUpdate, LayerUpdate, TensorUpdate } from '../schema/characterization.type.js';
import { RunStatus, Section } from '../schema/enums.js';
import { NotFoundError } from '../schema/errors.js';
import { Run } from '../schema/run.type.js';
import { waitForRun } from '../services/run-manager.js';
import { toGroupUpdates, toLayerUpdates, toTensorUpdates } from './characterization.mapping.js';
import type { RequestContext } from './context.js';
import { toRun } from './run.mapping.js';
import { translating } from './translate-error.js';
import { idArg, intArg, LAYER_INDEX, textArg, TEXT, waitSecondsArg } from './validate-args.js';
import { checkCharacterizationOptions } from './validate-inputs.js';

const MAX_TENSOR_PAGE = 1000;

@Resolver(() => Characterization)
export class CharacterizationResolver {
  @Query(() => Characterization, {
    description: 'Starts or joins the update characterization of a Base / SFT (IN) / RL trio and waits up to waitSeconds (default 10) for it; rows are present once status is DONE.',
  })
  characterization(
    @Arg('base', () => ID) base: string,
    @Arg('sft', () => ID) sft: string,
    @Arg('rl', () => ID) rl: string,
    @Arg('options', () => CharacterizationOptions, { nullable: true }) options: CharacterizationOptions | null,
    @Arg('waitSeconds', () => Float, { nullable: true }) waitSeconds: number | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Characterization> {
    idArg('base', base);
    idArg('sft', sft);
    idArg('rl', rl);
    checkCharacterizationOptions('options', options);
    return translating(async () => {
      const wait = waitSecondsArg(waitSeconds);
      const handle = await ctx.services.characterizations.start({ base, sft, rl, options });
      await waitForRun(handle, wait);
      return { runId: handle.runId };
    });
  }

  private async runOf(root: Characterization, ctx: RequestContext): Promise<Run> {
    // a run's status changes while the request waits, so read it fresh
    ctx.loaders.run.clear(root.runId);
    const row = await ctx.loaders.run.load(root.runId);
    if (!row) throw new NotFoundError('run', root.runId);
    return toRun(row, ctx.services.runs.liveProgress(row.id));
  }

  private async isDone(root: Characterization, ctx: RequestContext): Promise<boolean> {
    const row = await ctx.loaders.run.load(root.runId);
    return row?.status === 'DONE';
  }

  @FieldResolver(() => Run)
  run(@Root() root: Characterization, @Ctx() ctx: RequestContext): Promise<Run> {
    return translating(() => this.runOf(root, ctx));
  }

  @FieldResolver(() => RunStatus)
  status(@Root() root: Characterization, @Ctx() ctx: RequestContext): Promise<RunStatus> {
    return translating(async () => (await this.runOf(root, ctx)).status);
  }

  @FieldResolver(() => Float, { description: '0..1' })
  progress(@Root() root: Characterization, @Ctx() ctx: RequestContext): Promise<number> {
    return translating(async () => (await this.runOf(root, ctx)).progress);
  }

  @FieldResolver(() => [LayerUpdate], { description: 'one row per unified layer index, ascending; empty until DONE' })
  layers(@Root() root: Characterization, @Ctx() ctx: RequestContext): Promise<LayerUpdate[]> {
    return translating(async () => ((await this.isDone(root, ctx)) ? toLayerUpdates(await ctx.loaders.layerStats.load(root.runId)) : []));
  }

  @FieldResolver(() => [GroupUpdate], { description: 'vision, projector, llm, other' })
  sections(@Root() root: Characterization, @Ctx() ctx: RequestContext): Promise<GroupUpdate[]> {
    return translating(async () => ((await this.isDone(root, ctx)) ? toGroupUpdates(await ctx.loaders.groupStats.load(root.runId), 'section') : []));
  }

  @FieldResolver(() => [GroupUpdate], { description: 'early, middle, late (LLM layers)' })
  regions(@Root() root: Characterization, @Ctx() ctx: RequestContext): Promise<GroupUpdate[]> {
    return translating(async () => ((await this.isDone(root, ctx)) ? toGroupUpdates(await ctx.loaders.groupStats.load(root.runId), 'region') : []));
  }

  @FieldResolver(() => [GroupUpdate], { description: 'attention, mlp, other' })
  components(@Root() root: Characterization, @Ctx() ctx: RequestContext): Promise<GroupUpdate[]> {
    return translating(async () => ((await this.isDone(root, ctx)) ? toGroupUpdates(await ctx.loaders.groupStats.load(root.runId), 'component') : []));
  }

  @FieldResolver(() => [TensorUpdate], { description: 'per-tensor rows ordered by name; page with first/after (after = the last name seen)' })
  tensors(
    @Root() root: Characterization,
    @Arg('section', () => Section, { nullable: true }) section: Section | null,
    @Arg('layer', () => Int, { nullable: true, description: 'unified layer index' }) layer: number | null,
    @Arg('first', () => Int, { nullable: true, description: `default 1000, at most ${MAX_TENSOR_PAGE}` }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<TensorUpdate[]> {
    intArg('layer', layer, LAYER_INDEX);
    textArg('after', after, { maxLength: TEXT.name, allowEmpty: true });
    return translating(async () => {
      const limit = intArg('first', first, { min: 1, max: MAX_TENSOR_PAGE }, 1000);
      if (!(await this.isDone(root, ctx))) return [];
      const rows = await ctx.services.warehouse.tensorStats({
        runId: root.runId,
        section: section ?? undefined,
        layerIndex: layer ?? undefined,
        first: limit,
        after: after ?? undefined,
      });
      return toTensorUpdates(rows);
    });
  }
}
