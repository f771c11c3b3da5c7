/**
 * The report's "what it says" lines, computed from the collected rows (never
 * hard-coded): where each phase updated the weights most, whether RL beats
 * IN on reasoning beyond the interval, which splice recovers most of RL's
 * reasoning gain, where visual information stops mattering, and what
 * freezing a third costs.
 */
import type { LayerEffectRow, ReportData } from './collect.js';

const pct = (x: number | null | undefined): string => (x == null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
const pts = (x: number | null | undefined): string => (x == null ? 'n/a' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} points`);

function largestRegion(data: ReportData, phase: 'sft' | 'rl'): { third: string; relativeNorm: string } | null {
  const regions = data.characterization.regions.filter((r) => ['early', 'middle', 'late'].includes(r.key.toLowerCase()));
  if (regions.length === 0) return null;
  const best = regions.reduce((a, b) => (b[phase].relativeNorm > a[phase].relativeNorm ? b : a));
  return { third: best.key.toLowerCase(), relativeNorm: best[phase].relativeNorm.toPrecision(3) };
}

/** The last LLM layer whose swap change rate is still at least half the largest, or null. */
function swapReach(rows: readonly LayerEffectRow[]): { layer: number; peak: number } | null {
  const curve = rows.filter((r) => r.task === 'all' && r.metric === 'change_rate' && r.index !== null && r.index > 0);
  if (curve.length === 0) return null;
  const peak = Math.max(...curve.map((r) => r.value));
  if (peak === 0) return null;
  const reach = curve.filter((r) => r.value >= peak / 2).reduce((a, b) => Math.max(a, b.index!), 0);
  return { layer: reach, peak };
}

/** Plain-text findings, in reading order. */
export function summarise(data: ReportData): string[] {
  const lines: string[] = [];
  const sftRegion = largestRegion(data, 'sft');
  const rlRegion = largestRegion(data, 'rl');
  if (sftRegion && rlRegion) {
    lines.push(
      `Weights: Base→IN changed the ${sftRegion.third} third of the LLM most (relative norm ${sftRegion.relativeNorm}); ` +
        `IN→RL changed the ${rlRegion.third} third most (relative norm ${rlRegion.relativeNorm}).`,
    );
  }

  const versus = data.rlVersusIn.find((t) => t.task === 'all');
  if (versus) {
    const beyond = versus.deltaCiLow !== null && versus.deltaCiLow > 0;
    lines.push(
      `Reasoning: RL vs IN ${pts(versus.delta)} (95% interval ${pts(versus.deltaCiLow)} to ${pts(versus.deltaCiHigh)}) on ${versus.n} questions ` +
        `(RL right where IN was wrong: ${versus.nTF}, the reverse: ${versus.nFT}; McNemar p = ${versus.mcnemarP.toPrecision(2)}). ` +
        (beyond ? 'RL beats IN beyond the 95% interval.' : 'RL does not beat IN beyond the 95% interval.'),
    );
  }

  const reasoning = data.transferability.rows.filter((r) => r.setting === 'REASONING');
  const accuracy = (variant: string): number | null => reasoning.find((r) => r.variant === variant)?.conditions.find((c) => c.task === 'all')?.accuracy ?? null;
  const { sft, rl } = data.request;
  const splices = reasoning.filter((r) => r.variant !== sft && r.variant !== rl).map((r) => ({ variant: r.variant, accuracy: accuracy(r.variant) }));
  const accIn = accuracy(sft);
  const accRl = accuracy(rl);
  const scored = splices.filter((x): x is { variant: string; accuracy: number } => x.accuracy !== null);
  if (scored.length > 0 && accIn !== null && accRl !== null) {
    const gain = accRl - accIn;
    const top = Math.max(...scored.map((x) => x.accuracy));
    // ties are common on small probe sets: name every splice at the top
    const best = scored.filter((x) => Math.abs(x.accuracy - top) < 1e-12).map((x) => x.variant);
    const names = best.join(', ');
    if (gain > 1e-12) {
      lines.push(
        `Transfer: ${names} ${best.length > 1 ? 'recover' : 'recovers'} the most of RL's reasoning gain (${pct((top - accIn) / gain)} of it; ` +
          `accuracy ${pct(top)}, IN ${pct(accIn)}, RL ${pct(accRl)}).`,
      );
    } else {
      lines.push(`Transfer: RL does not gain over IN on reasoning (IN ${pct(accIn)}, RL ${pct(accRl)}), so no splice can recover a gain; the best splice${best.length > 1 ? 's' : ''} (${names}) score${best.length > 1 ? '' : 's'} ${pct(top)}.`);
    }
  }

  const reachIn = data.swap && swapReach(data.swap.sft.layers);
  const reachRl = data.swap && swapReach(data.swap.rl.layers);
  if (reachIn || reachRl) {
    const say = (name: string, r: ReturnType<typeof swapReach>): string =>
      r ? `up to layer ${r.layer} in ${name} (peak change rate ${pct(r.peak)})` : `at no layer in ${name}`;
    lines.push(
      `Vision: swapping the image's keys/values changes answers at least half as often as at its peak ${say('IN', reachIn)} and ${say('RL', reachRl)} ` +
        '(layers on the unified index: LLM layer i is i + 1).',
    );
  }

  if (data.necessity) {
    const frozen = data.necessity.rows.filter((r) => r.kind === 'frozen' && r.setting === 'REASONING');
    if (frozen.length > 0) {
      if (frozen.every((r) => r.shareOfRlGain === null)) {
        lines.push('Necessity: RL gains nothing over IN on reasoning here, so no share of its gain can be attributed to a third.');
      } else {
        const kept = (rows: typeof frozen, name: (r: (typeof frozen)[number]) => string): string =>
          [...rows].sort((a, b) => (a.shareOfRlGain ?? Infinity) - (b.shareOfRlGain ?? Infinity)).map((r) => `${name(r)} ${pct(r.shareOfRlGain)}`).join(', ');
        const reverted = data.necessity.rows.filter((r) => r.kind === 'revert_proxy' && r.setting === 'REASONING');
        lines.push(
          `Necessity: share of RL's reasoning gain kept when trained with layers frozen: ${kept(frozen, (r) => r.variant)}` +
            (reverted.length > 0 ? `; with one third reverted to IN (training-free proxy): ${kept(reverted, (r) => r.region ?? r.variant)}.` : '.'),
        );
      }
    }
  }
  return lines;
}
