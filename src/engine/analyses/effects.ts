/**
 * Per-layer metric rows with seeded bootstrap 95% intervals, per task and
 * over all tasks ('all').
 */
import { bootstrapPairedDifference, bootstrapProportion, type Interval } from '../scoring/index.js';
import { SeededRandom } from '../linalg/seeded-random.js';
import { quantile } from '../scoring/index.js';
import type { LayerEffect } from './types.js';

export interface EffectOptions {
  bootstrapSamples: number;
  seed: number;
}

/** Values tagged with their example's task. */
export interface Tagged<T> {
  task: string;
  value: T;
}

function byTask<T>(items: readonly Tagged<T>[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const { task, value } of items) {
    const list = groups.get(task);
    if (list) list.push(value);
    else groups.set(task, [value]);
  }
  const out = new Map([...groups.entries()].sort((a, b) => a[0].localeCompare(b[0])));
  out.set('all', items.map((i) => i.value));
  return out;
}

function row(layerIndex: number | null, task: string, metric: string, interval: Interval, extra: unknown = null): LayerEffect {
  return {
    layerIndex,
    section: layerIndex === null ? null : 'llm',
    task,
    metric,
    value: interval.estimate,
    ciLow: interval.low,
    ciHigh: interval.high,
    n: interval.n,
    extra,
  };
}

/** Share of true outcomes, per task and overall. */
export function proportionRows(layerIndex: number | null, metric: string, outcomes: readonly Tagged<boolean>[], o: EffectOptions): LayerEffect[] {
  return [...byTask(outcomes)].map(([task, values]) =>
    row(layerIndex, task, metric, bootstrapProportion(values, { resamples: o.bootstrapSamples, seed: o.seed })),
  );
}

/** mean(a) - mean(b) over paired outcomes, per task and overall. */
export function pairedDifferenceRows(layerIndex: number | null, metric: string, pairs: readonly Tagged<[boolean, boolean]>[], o: EffectOptions): LayerEffect[] {
  return [...byTask(pairs)].map(([task, values]) =>
    row(layerIndex, task, metric, bootstrapPairedDifference(values.map((v) => v[0]), values.map((v) => v[1]), { resamples: o.bootstrapSamples, seed: o.seed })),
  );
}

/** Percentile bootstrap of the mean of real values (same resampling scheme as the proportions). */
export function bootstrapMeanInterval(values: readonly number[], o: EffectOptions): Interval {
  const n = values.length;
  if (n === 0) return { estimate: null, low: null, high: null, n: 0 };
  const random = new SeededRandom(o.seed);
  const means = new Float64Array(o.bootstrapSamples);
  for (let r = 0; r < o.bootstrapSamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random.uniform() * n)]!;
    means[r] = sum / n;
  }
  means.sort();
  return { estimate: values.reduce((s, v) => s + v, 0) / n, low: quantile(means, 0.025), high: quantile(means, 0.975), n };
}

/** Mean of real values, per task and overall. */
export function meanRows(layerIndex: number | null, metric: string, values: readonly Tagged<number>[], o: EffectOptions): LayerEffect[] {
  return [...byTask(values)].map(([task, xs]) => row(layerIndex, task, metric, bootstrapMeanInterval(xs, o)));
}

/**
 * sum(numerators) / sum(denominators) with a bootstrap over examples (pairs
 * resampled together): stable where per-example ratios explode on small
 * denominators. Null when the denominators sum to about zero.
 */
export function ratioOfSumsRows(layerIndex: number | null, metric: string, pairs: readonly Tagged<[number, number]>[], o: EffectOptions): LayerEffect[] {
  const ratio = (xs: readonly [number, number][]) => {
    let num = 0;
    let den = 0;
    for (const [a, b] of xs) {
      num += a;
      den += b;
    }
    return Math.abs(den) > 1e-9 ? num / den : null;
  };
  return [...byTask(pairs)].map(([task, xs]) => {
    const estimate = ratio(xs);
    if (estimate === null) return row(layerIndex, task, metric, { estimate: null, low: null, high: null, n: xs.length });
    const random = new SeededRandom(o.seed);
    const samples: number[] = [];
    for (let r = 0; r < o.bootstrapSamples; r++) {
      const pick = Array.from({ length: xs.length }, () => xs[Math.floor(random.uniform() * xs.length)]!);
      const v = ratio(pick);
      if (v !== null) samples.push(v);
    }
    samples.sort((a, b) => a - b);
    const interval = samples.length ? { low: quantile(samples, 0.025), high: quantile(samples, 0.975) } : { low: null, high: null };
    return row(layerIndex, task, metric, { estimate, ...interval, n: xs.length });
  });
}
