/**
 * The report's "what it says" lines, computed from the collected rows (never
 * hard-coded): where each phase updated the weights most, whether RL beats
 * IN on reasoning beyond the interval, which splice keeps most of RL's
 * reasoning accuracy, where visual information stops mattering, and what
 * freezing a third costs.
 */
import type { LayerEffectRow, ReportData } from './collect.js';

const pct = (x: number | null | undefined): string => (x == null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
const pts = (x: number | null | undefined): string => (x == null ? 'n/a' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} points`);

function largestRegion(data: ReportData, phase: 'sft' | 'rl'): string | null {
  const regions = data.characterization.regions.filter((r) => ['early', 'middle', 'late'].includes(r.key.toLowerCase()));
  if (regions.length === 0) return null;
  const best = regions.reduce((a, b) => (b[phase].relativeNorm > a[phase].relativeNorm ? b : a));
  return `${best.key.toLowerCase()} (relative norm ${best[phase].relativeNorm.toPrecision(3)})`;
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
  if (sftRegion && rlRegion) lines.push(`Weights: Base→IN changed the ${sftRegion} third of the LLM most; IN→RL changed the ${rlRegion} third most.`);

  const versus = data.rlVersusIn.find((t) => t.task === 'all');
  if (versus) {
    const beyond = versus.deltaCiLow !== null && versus.deltaCiLow > 0;
    lines.push(
      `Reasoning: RL vs IN ${pts(versus.delta)} [${pts(versus.deltaCiLow)}, ${pts(versus.deltaCiHigh)}] on ${versus.n} questions ` +
        `(RL right where IN was wrong: ${versus.nTF}, the reverse: ${versus.nFT}; McNemar p = ${versus.mcnemarP.toPrecision(2)}). ` +
        (beyond ? 'RL beats IN beyond the 95% interval.' : 'RL does not beat IN beyond the 95% interval.'),
    );
  }

  const reasoning = data.transferability.rows.filter((r) => r.setting === 'REASONING');
  const accuracy = (variant: string): number | null => reasoning.find((r) => r.variant === variant)?.conditions.find((c) => c.task === 'all')?.accuracy ?? null;
  const { sft, rl } = data.request;
  const splices = reasoning.filter((r) => r.variant !== sft && r.variant !== rl);
  if (splices.length > 0) {
    const best = splices.reduce((a, b) => ((accuracy(b.variant) ?? -1) > (accuracy(a.variant) ?? -1) ? b : a));
    lines.push(`Transfer: of the six splices, ${best.variant} scores highest on reasoning (${pct(accuracy(best.variant))}; IN ${pct(accuracy(sft))}, RL ${pct(accuracy(rl))}).`);
  }

  const reachIn = swapReach(data.swap.sft.layers);
  const reachRl = swapReach(data.swap.rl.layers);
  if (reachIn || reachRl) {
    const say = (name: string, r: ReturnType<typeof swapReach>): string =>
      r ? `${name} up to LLM layer ${r.layer} (peak change rate ${pct(r.peak)})` : `${name}: swapping the image's keys/values never changed an answer`;
    lines.push(`Vision: swapping visual keys/values changes answers in ${say('IN', reachIn)}; ${say('RL', reachRl)}.`);
  }

  if (data.necessity) {
    const frozen = data.necessity.rows.filter((r) => r.kind === 'frozen' && r.setting === 'REASONING');
    if (frozen.length > 0) {
      if (frozen.every((r) => r.shareOfRlGain === null)) {
        lines.push('Necessity: RL gains nothing over IN on reasoning here, so no share of its gain can be attributed to a third.');
      } else {
        const worst = frozen.reduce((a, b) => ((b.shareOfRlGain ?? Infinity) < (a.shareOfRlGain ?? Infinity) ? b : a));
        lines.push(`Necessity: ${worst.variant} (trained with a third frozen) keeps the least of RL's reasoning gain (${pct(worst.shareOfRlGain)}).`);
      }
    }
  }
  return lines;
}
