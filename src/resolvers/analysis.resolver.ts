import { Arg, Ctx, Float, ID, Query, Resolver } from 'type-graphql';
import { AnalysisOptions } from '../schema/analysis.input.js';
import { LocalizationMethod } from '../schema/enums.js';
import { ActivationPatching, AttentionShift, Localization } from '../schema/layer-analysis.type.js';
import type { RunHandle } from '../services/run-manager.js';
import { waitForRun } from '../services/run-manager.js';
import type { RequestContext } from './context.js';
import { layerAnalysisFields } from './layer-analysis.fields.js';
import { translating } from './translate-error.js';
import { idArg, waitSecondsArg } from './validate-args.js';
import { checkAnalysisOptions } from './validate-inputs.js';

async function started(wait: number | null, start: () => Promise<RunHandle>): Promise<{ runId: string }> {
  const seconds = waitSecondsArg(wait);
  const handle = await start();
  await waitForRun(handle, seconds);
  return { runId: handle.runId };
}

@Resolver()
export class AnalysisResolver {
  @Query(() => Localization, {
    description: 'Starts or joins a functional localization of one model on a probe set and waits up to waitSeconds (default 10); rows are present once status is DONE.',
  })
  localization(
    @Arg('model', () => ID) model: string,
    @Arg('probeSet', () => ID) probeSet: string,
    @Arg('method', () => LocalizationMethod) method: LocalizationMethod,
    @Arg('options', () => AnalysisOptions, { nullable: true }) options: AnalysisOptions | null,
    @Arg('waitSeconds', () => Float, { nullable: true }) waitSeconds: number | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Localization> {
    idArg('model', model);
    idArg('probeSet', probeSet);
    checkAnalysisOptions('options', options);
    return translating(() => started(waitSeconds, () => ctx.services.analyses.localization(model, probeSet, method, options ?? {})));
  }

  @Query(() => AttentionShift, { description: 'Attention mass from text to visual tokens per layer for models A and B (metrics attention_mass_a, attention_mass_b, attention_mass_diff = B - A).' })
  attentionShift(
    @Arg('a', () => ID) a: string,
    @Arg('b', () => ID) b: string,
    @Arg('probeSet', () => ID) probeSet: string,
    @Arg('options', () => AnalysisOptions, { nullable: true }) options: AnalysisOptions | null,
    @Arg('waitSeconds', () => Float, { nullable: true }) waitSeconds: number | null,
    @Ctx() ctx: RequestContext,
  ): Promise<AttentionShift> {
    idArg('a', a);
    idArg('b', b);
    idArg('probeSet', probeSet);
    checkAnalysisOptions('options', options);
    return translating(() => started(waitSeconds, () => ctx.services.analyses.attentionShift(a, b, probeSet, options ?? {})));
  }

  @Query(() => ActivationPatching, {
    description: "Patches the source model's residual stream after layer L into the target model (metrics accuracy, source_answer_rate or logprob_recovered; baselines accuracy_target, accuracy_source).",
  })
  activationPatching(
    @Arg('target', () => ID) target: string,
    @Arg('source', () => ID) source: string,
    @Arg('probeSet', () => ID) probeSet: string,
    @Arg('options', () => AnalysisOptions, { nullable: true }) options: AnalysisOptions | null,
    @Arg('waitSeconds', () => Float, { nullable: true }) waitSeconds: number | null,
    @Ctx() ctx: RequestContext,
  ): Promise<ActivationPatching> {
    idArg('target', target);
    idArg('source', source);
    idArg('probeSet', probeSet);
    checkAnalysisOptions('options', options);
    return translating(() => started(waitSeconds, () => ctx.services.analyses.activationPatching(target, source, probeSet, options ?? {})));
  }
}

export const LocalizationFields = layerAnalysisFields(Localization);
export const AttentionShiftFields = layerAnalysisFields(AttentionShift);
export const ActivationPatchingFields = layerAnalysisFields(ActivationPatching);
