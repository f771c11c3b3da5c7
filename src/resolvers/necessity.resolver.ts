import { Arg, Ctx, Float, ID, Int, Query, Resolver } from 'type-graphql';
import { defaultLayerCuts } from '../engine/layout.js';
import { AnalysisOptions } from '../schema/analysis.input.js';
import { Necessity, NecessityRow, Setting } from '../schema/variant.type.js';
import type { ResolvedVariant } from '../services/variant-service.js';
import type { RequestContext } from './context.js';
import { translating } from './translate-error.js';
import { idArg, waitSecondsArg } from './validate-args.js';
import { checkAnalysisOptions, checkFrozen, checkLayerCuts, layerCutsWithin } from './validate-inputs.js';
import { scoreGrid } from './score-grid.js';
import { toConditionScores } from './variant.mapping.js';

const REGIONS = ['early', 'middle', 'late'] as const;

interface Entry {
  variant: ResolvedVariant;
  kind: string;
  region: string | null;
}

@Resolver()
export class NecessityResolver {
  @Query(() => Necessity, {
    description: "METHOD §4: scores IN, RL, checkpoints trained with frozen layer ranges, and the training-free proxies (RL with one region reverted to IN, IN with one region from RL) in every setting the probe set supports; waits up to waitSeconds (default 10).",
  })
  necessity(
    @Arg('rl', () => ID) rl: string,
    @Arg('sft', () => ID) sft: string,
    @Arg('frozen', () => [ID]) frozen: string[],
    @Arg('probeSet', () => ID) probeSet: string,
    @Arg('layerCuts', () => [Int], { nullable: true }) layerCuts: number[] | null,
    @Arg('options', () => AnalysisOptions, { nullable: true }) options: AnalysisOptions | null,
    @Arg('waitSeconds', () => Float, { nullable: true }) waitSeconds: number | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Necessity> {
    idArg('rl', rl);
    idArg('sft', sft);
    checkFrozen('frozen', frozen);
    idArg('probeSet', probeSet);
    checkLayerCuts('layerCuts', layerCuts);
    checkAnalysisOptions('options', options);
    return translating(async () => {
      const wait = waitSecondsArg(waitSeconds);
      const service = ctx.services.variants;
      const inV = await service.resolve({ model: sft });
      const rlV = await service.resolve({ model: rl });
      const [a, b] = layerCuts ? layerCutsWithin('layerCuts', layerCuts, inV.numLayers) : defaultLayerCuts(inV.numLayers);
      const ranges = { early: [0, a], middle: [a, b], late: [b, inV.numLayers] } as const;
      const entries: Entry[] = [{ variant: inV, kind: 'in', region: null }, { variant: rlV, kind: 'rl', region: null }];
      for (const id of frozen) entries.push({ variant: await service.resolve({ model: id }), kind: 'frozen', region: null });
      for (const region of REGIONS) {
        const [from, to] = ranges[region];
        if (from === to) continue;
        const splice = (base: string, donor: string, label: string) =>
          service.resolve({ recipe: { base, donors: [donor], operations: [{ op: 'splice', model: donor, layers: { from, to } }], label } });
        entries.push({ variant: await splice(rl, sft, `rl_with_in_${region}`), kind: 'revert_proxy', region });
        entries.push({ variant: await splice(sft, rl, `in_with_rl_${region}`), kind: 'reverse_proxy', region });
      }
      const grid = await scoreGrid(ctx, entries, probeSet, options, wait);
      const done = grid.done;
      // the primary condition of each setting: with the image, or the question alone
      const primary = done.map((cell) => toConditionScores(cell.effects, cell.setting).find((c) => c.task === 'all')!);
      const accOf = (kind: string, setting: Setting) => {
        const i = done.findIndex((j) => j.entry.kind === kind && j.setting === setting);
        return i < 0 ? null : primary[i]!.accuracy;
      };
      const rows: NecessityRow[] = done.map((j, i) => {
        const p = primary[i]!;
        const accIn = accOf('in', j.setting);
        const accRl = accOf('rl', j.setting);
        const gain = p.accuracy !== null && accIn !== null ? p.accuracy - accIn : null;
        const rlGain = accRl !== null && accIn !== null ? accRl - accIn : null;
        return {
          variant: j.entry.variant.label,
          kind: j.entry.kind,
          region: j.entry.region,
          setting: j.setting,
          condition: p.condition,
          accuracy: p.accuracy,
          ciLow: p.ciLow,
          ciHigh: p.ciHigh,
          n: p.n,
          gainOverIn: gain,
          shareOfRlGain: gain !== null && rlGain !== null && Math.abs(rlGain) > 1e-12 ? gain / rlGain : null,
        };
      });
      return { status: grid.status, progress: grid.progress, runs: grid.runs, rows };
    });
  }
}
