import { Arg, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Checkpoint } from '../schema/checkpoint.type.js';
import { AnalysisOptions } from '../schema/analysis.input.js';
import { BadUserInputError, NotFoundError } from '../schema/errors.js';
import { Run } from '../schema/run.type.js';
import { RunStatus } from '../schema/enums.js';
import { VariantRecipeInput } from '../schema/variant.input.js';
import { ConditionScore, ConditionTransition, Setting, Transferability, TransferRow, Variant, VariantScores } from '../schema/variant.type.js';
import { waitForRun } from '../services/run-manager.js';
import type { ResolvedVariant } from '../services/variant-service.js';
import type { RequestContext } from './context.js';
import { toRun } from './run.mapping.js';
import { translating } from './translate-error.js';
import { idArg, textArg, TEXT, waitSecondsArg } from './validate-args.js';
import { checkAnalysisOptions, checkLayerCuts, checkRecipeInput } from './validate-inputs.js';
import { scoreGrid } from './score-grid.js';
import { toConditionScores, toTransitions, variantTransitions } from './variant.mapping.js';

function toVariant(resolved: ResolvedVariant): Variant {
  return { fingerprint: resolved.fingerprint, label: resolved.label, recipe: resolved.recipe, models: resolved.models.map((m) => m.id), notes: resolved.notes, resolved };
}

@Resolver(() => Variant)
export class VariantResolver {
  @Query(() => Variant, { description: 'Resolves a model or merge recipe to its canonical variant (nothing is computed until scores are asked for).' })
  variant(@Arg('recipe', () => VariantRecipeInput) recipe: VariantRecipeInput, @Ctx() ctx: RequestContext): Promise<Variant> {
    checkRecipeInput('recipe', recipe);
    return translating(async () => toVariant(await ctx.services.variants.resolve(recipe)));
  }

  @Mutation(() => Checkpoint, {
    description: 'Materialises a merge recipe as a safetensors checkpoint (with config and tokenizer) at a new directory inside an allowed model root, and registers it.',
  })
  exportVariant(
    @Arg('recipe', () => VariantRecipeInput) recipe: VariantRecipeInput,
    @Arg('path', () => String, { description: 'new directory; its parent must lie inside FRANKENSCOPE_MODEL_ROOTS' }) path: string,
    @Arg('dtype', () => String, { nullable: true, description: "F32 (bit-exact), F16 or BF16 (default: a recipeYaml's out_dtype or dtype, else BF16)" }) dtype: string | null,
    @Arg('name', () => String, { nullable: true, description: 'id to register the export under (default: its path relative to the root)' }) name: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Checkpoint> {
    checkRecipeInput('recipe', recipe);
    textArg('path', path, { maxLength: TEXT.path });
    textArg('dtype', dtype, { maxLength: 8 });
    textArg('name', name, { maxLength: TEXT.id });
    return translating(async () => {
      // an omitted argument arrives as undefined, an explicit null as null: both mean the default
      if (dtype !== null && dtype !== undefined && dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') throw new BadUserInputError(`'dtype' must be F32, F16 or BF16, got '${dtype}'`, 'dtype', { values: ['F32', 'F16', 'BF16'] });
      const resolved = await ctx.services.variants.resolve(recipe);
      const d = dtype ?? resolved.dtype ?? 'BF16';
      return ctx.services.variants.export(resolved, path, { dtype: d, name });
    });
  }

  @FieldResolver(() => VariantScores, { description: 'Starts or joins the scoring of this variant in a setting and waits up to waitSeconds (default 10).' })
  scores(
    @Root() variant: Variant,
    @Arg('probeSet', () => ID) probeSet: string,
    @Arg('setting', () => Setting) setting: Setting,
    @Arg('options', () => AnalysisOptions, { nullable: true }) options: AnalysisOptions | null,
    @Arg('waitSeconds', () => Float, { nullable: true }) waitSeconds: number | null,
    @Ctx() ctx: RequestContext,
  ): Promise<VariantScores> {
    idArg('probeSet', probeSet);
    checkAnalysisOptions('options', options);
    return translating(async () => {
      const wait = waitSecondsArg(waitSeconds);
      const handle = await ctx.services.variants.score(variant.resolved as ResolvedVariant, probeSet, setting, options ?? {});
      await waitForRun(handle, wait);
      return { runId: handle.runId, setting };
    });
  }

  @FieldResolver(() => [ConditionTransition], {
    description:
      "Transition statistics between this variant (A) and another (B) on the same ids, per condition of the setting and per task ('all' included); scores both (cached) and waits up to waitSeconds; empty until both are DONE.",
  })
  transitions(
    @Root() variant: Variant,
    @Arg('versus', () => VariantRecipeInput) versus: VariantRecipeInput,
    @Arg('probeSet', () => ID) probeSet: string,
    @Arg('setting', () => Setting) setting: Setting,
    @Arg('options', () => AnalysisOptions, { nullable: true }) options: AnalysisOptions | null,
    @Arg('waitSeconds', () => Float, { nullable: true }) waitSeconds: number | null,
    @Ctx() ctx: RequestContext,
  ): Promise<ConditionTransition[]> {
    checkRecipeInput('versus', versus);
    idArg('probeSet', probeSet);
    checkAnalysisOptions('options', options);
    return translating(async () => {
      const wait = waitSecondsArg(waitSeconds);
      const service = ctx.services.variants;
      const a = variant.resolved as ResolvedVariant;
      const b = await service.resolve(versus);
      const ha = await service.score(a, probeSet, setting, options ?? {});
      const hb = await service.score(b, probeSet, setting, options ?? {});
      await waitForRun({ runId: '', cached: false, settled: Promise.all([ha.settled, hb.settled]).then(() => undefined) }, wait);
      const runs = await ctx.services.warehouse.getRuns([ha.runId, hb.runId]);
      if (!runs.every((r) => r?.status === 'DONE')) return [];
      const [oa, ob] = await Promise.all([service.outcomes(ha.runId), service.outcomes(hb.runId)]);
      return variantTransitions(a.label, b.label, oa, ob, options?.bootstrapSamples ?? 1000, options?.seed ?? 0);
    });
  }

  @Query(() => Transferability, {
    description: "The reference's transferability table: IN, RL and the six region splices, each scored in every setting the probe set supports; waits up to waitSeconds (default 10) for all runs.",
  })
  transferability(
    @Arg('sft', () => ID) sft: string,
    @Arg('rl', () => ID) rl: string,
    @Arg('probeSet', () => ID) probeSet: string,
    @Arg('layerCuts', () => [Int], { nullable: true }) layerCuts: number[] | null,
    @Arg('options', () => AnalysisOptions, { nullable: true }) options: AnalysisOptions | null,
    @Arg('waitSeconds', () => Float, { nullable: true }) waitSeconds: number | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Transferability> {
    idArg('sft', sft);
    idArg('rl', rl);
    idArg('probeSet', probeSet);
    checkLayerCuts('layerCuts', layerCuts);
    checkAnalysisOptions('options', options);
    return translating(async () => {
      const wait = waitSecondsArg(waitSeconds);
      const variants = await ctx.services.variants.referenceVariants(sft, rl, layerCuts);
      const grid = await scoreGrid(ctx, variants.map((variant) => ({ variant })), probeSet, options, wait);
      const rows: TransferRow[] = grid.done.map((cell) => ({
        variant: cell.entry.variant.label,
        fingerprint: cell.entry.variant.fingerprint,
        setting: cell.setting,
        runId: cell.runId,
        conditions: toConditionScores(cell.effects, cell.setting).filter((c) => c.task === 'all'),
        transition: toTransitions(cell.effects, cell.setting).find((t) => t.task === 'all') ?? null,
      }));
      return { status: grid.status, progress: grid.progress, runs: grid.runs, rows };
    });
  }
}

@Resolver(() => VariantScores)
export class VariantScoresResolver {
  private async runOf(root: VariantScores, ctx: RequestContext): Promise<Run> {
    ctx.loaders.run.clear(root.runId);
    const row = await ctx.loaders.run.load(root.runId);
    if (!row) throw new NotFoundError('run', root.runId);
    return toRun(row, ctx.services.runs.liveProgress(row.id));
  }

  @FieldResolver(() => Run)
  run(@Root() root: VariantScores, @Ctx() ctx: RequestContext): Promise<Run> {
    return translating(() => this.runOf(root, ctx));
  }

  @FieldResolver(() => RunStatus)
  status(@Root() root: VariantScores, @Ctx() ctx: RequestContext): Promise<RunStatus> {
    return translating(async () => (await this.runOf(root, ctx)).status);
  }

  @FieldResolver(() => Float)
  progress(@Root() root: VariantScores, @Ctx() ctx: RequestContext): Promise<number> {
    return translating(async () => (await this.runOf(root, ctx)).progress);
  }

  @FieldResolver(() => [ConditionScore], { description: "accuracy per condition, per task and 'all'; empty until DONE" })
  conditions(@Root() root: VariantScores, @Ctx() ctx: RequestContext): Promise<ConditionScore[]> {
    return translating(async () => ((await this.runOf(root, ctx)).status === RunStatus.DONE ? toConditionScores(await ctx.loaders.layerEffects.load(root.runId), root.setting) : []));
  }

  @FieldResolver(() => [ConditionTransition], { description: "transition statistics between the setting's two conditions, per task and 'all'; empty for REASONING or until DONE" })
  transitions(@Root() root: VariantScores, @Ctx() ctx: RequestContext): Promise<ConditionTransition[]> {
    return translating(async () => ((await this.runOf(root, ctx)).status === RunStatus.DONE ? toTransitions(await ctx.loaders.layerEffects.load(root.runId), root.setting) : []));
  }
}
