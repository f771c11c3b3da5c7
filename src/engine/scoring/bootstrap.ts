/**
 * Seeded percentile-bootstrap intervals for accuracies and paired accuracy
 * differences: the same inputs and seed give the same interval everywhere.
 */
import { SeededRandom } from '../linalg/seeded-random.js';

/** Options of the bootstrap intervals. */
export interface BootstrapOptions {
  /** resamples; default 1000 */
  resamples?: number;
  /** PRNG seed (mulberry32); default 0 */
  seed?: number;
  /** central coverage; default 0.95 */
  level?: number;
}

/** A point estimate with its percentile interval; all null when there are no observations. */
export interface Interval {
  estimate: number | null;
  low: number | null;
  high: number | null;
  /** observations (pairs, for a difference) */
  n: number;
}

/**
 * Percentile bootstrap interval of the share of true outcomes: resample n
 * outcomes with replacement, take the proportion, repeat; the interval is
 * the (1-level)/2 and (1+level)/2 quantiles (linear interpolation between
 * order statistics) of those proportions.
 */
export function bootstrapProportion(outcomes: readonly boolean[], options: BootstrapOptions = {}): Interval {
  const values = outcomes.map((o) => (o ? 1 : 0));
  return bootstrapMean(values, options, 'bootstrapProportion');
}

/**
 * Percentile bootstrap interval of mean(a) - mean(b) over paired outcomes
 * (the same ids under two conditions): pairs are resampled together.
 * @throws RangeError when a and b differ in length
 */
export function bootstrapPairedDifference(a: readonly boolean[], b: readonly boolean[], options: BootstrapOptions = {}): Interval {
  if (a.length !== b.length) {
    throw new RangeError(`bootstrapPairedDifference: 'a' and 'b' must be paired, got lengths ${a.length} and ${b.length}`);
  }
  return bootstrapMean(a.map((x, i) => (x ? 1 : 0) - (b[i] ? 1 : 0)), options, 'bootstrapPairedDifference');
}

function bootstrapMean(values: readonly number[], options: BootstrapOptions, caller: string): Interval {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`${caller}: 'resamples' must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`${caller}: 'level' must be in (0, 1), got ${level}`);
  if (!Number.isInteger(seed)) throw new RangeError(`${caller}: 'seed' must be an integer, got ${seed}`);
  const n = values.length;
  if (n === 0) return { estimate: null, low: null, high: null, n: 0 };
  const random = new SeededRandom(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random.uniform() * n)]!;
    means[r] = sum / n;
  }
  means.sort();
  const estimate = values.reduce((s, v) => s + v, 0) / n;
  return { estimate, low: quantile(means, (1 - level) / 2), high: quantile(means, (1 + level) / 2), n };
}

/** Quantile q of sorted values, interpolating linearly between order statistics (Hyndman-Fan type 7). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}
