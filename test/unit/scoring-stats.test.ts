import { describe, expect, it } from 'vitest';
import {
  alignById,
  bootstrapPairedDifference,
  bootstrapProportion,
  mcnemarExactP,
  quantile,
  transitionStats,
  transitionStatsWithIntervals,
} from '../../src/engine/scoring/index.js';

/** An independent generator for simulated data (LCG; not the one under test). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** Exact two-sided McNemar p by BigInt binomial coefficients: a second method. */
function exactP(b: number, c: number): number {
  const m = b + c;
  const k = Math.min(b, c);
  let coefficient = 1n;
  let tail = 1n;
  for (let i = 1; i <= k; i++) {
    coefficient = (coefficient * BigInt(m - i + 1)) / BigInt(i);
    tail += coefficient;
  }
  // 2 * tail / 2^m: keep the top 60 bits of the numerator, fold the rest into the power of two
  const numerator = 2n * tail;
  const shift = Math.max(0, numerator.toString(2).length - 60);
  return Math.min(1, Number(numerator >> BigInt(shift)) * 2 ** (shift - m));
}

describe('mcnemarExactP', () => {
  it('matches hand-computed values', () => {
    expect(mcnemarExactP(1, 5)).toBeCloseTo(14 / 64, 14);
    expect(mcnemarExactP(5, 1)).toBeCloseTo(14 / 64, 14);
    expect(mcnemarExactP(0, 10)).toBeCloseTo(2 / 1024, 15);
    expect(mcnemarExactP(2, 8)).toBeCloseTo(112 / 1024, 14);
    expect(mcnemarExactP(0, 1)).toBe(1);
    expect(mcnemarExactP(3, 3)).toBe(1);
    expect(mcnemarExactP(0, 0)).toBe(1);
  });

  it('matches exact BigInt binomial sums for large counts', () => {
    for (const [b, c] of [[40, 70], [450, 550], [120, 80], [3, 200]] as const) {
      const expected = exactP(b, c);
      expect(Math.abs(mcnemarExactP(b, c) - expected)).toBeLessThanOrEqual(1e-12 * Math.max(expected, 1e-300));
    }
  });

  it('refuses counts that are not non-negative integers', () => {
    expect(() => mcnemarExactP(-1, 2)).toThrow(/'nTF'/);
    expect(() => mcnemarExactP(1, 2.5)).toThrow(/'nFT'/);
  });
});

describe('transitionStats', () => {
  // pairs (A, B): TT, TF, TF, TF, FT, FF, FF, TT
  const a = [true, true, true, true, false, false, false, true];
  const b = [true, false, false, false, true, false, false, true];

  it('counts a small hand example', () => {
    expect(transitionStats(a, b)).toEqual({
      n: 8,
      nTT: 2,
      nTF: 3,
      nFT: 1,
      nFF: 2,
      accA: 5 / 8,
      accB: 3 / 8,
      delta: 0.25,
      netGain: -2,
      sideEffectRate: 3 / 5,
      liftRate: 1 / 3,
      mcnemarP: 10 / 16,
    });
  });

  it('netGain = -n * delta, and swapping conditions mirrors the counts', () => {
    const s = transitionStats(a, b);
    expect(s.netGain).toBeCloseTo(-s.n * s.delta!, 12);
    const t = transitionStats(b, a);
    expect([t.nTF, t.nFT, t.delta, t.mcnemarP]).toEqual([s.nFT, s.nTF, -s.delta!, s.mcnemarP]);
  });

  it('0/0 rates are null', () => {
    const allRight = transitionStats([true, true], [true, false]);
    expect(allRight.liftRate).toBeNull();
    expect(allRight.sideEffectRate).toBe(0.5);
    const empty = transitionStats([], []);
    expect([empty.accA, empty.accB, empty.delta, empty.sideEffectRate, empty.liftRate]).toEqual([null, null, null, null, null]);
    expect(empty.netGain).toBe(0);
    expect(empty.mcnemarP).toBe(1);
  });

  it('refuses unpaired inputs', () => expect(() => transitionStats([true], [])).toThrow(/lengths 1 and 0/));

  it('with intervals: accuracy intervals are those of bootstrapProportion with the same options', () => {
    const s = transitionStatsWithIntervals(a, b, { seed: 7, resamples: 200 });
    expect(s.accAInterval).toEqual(bootstrapProportion(a, { seed: 7, resamples: 200 }));
    expect(s.deltaInterval.estimate).toBeCloseTo(0.25, 15);
  });
});

describe('alignById', () => {
  it('pairs outcomes by id in sorted order', () => {
    const aligned = alignById(new Map([['b', true], ['a', false]]), new Map([['a', true], ['b', false]]));
    expect(aligned).toEqual({ ids: ['a', 'b'], a: [false, true], b: [true, false] });
  });
  it('names an id missing on either side', () => {
    expect(() => alignById(new Map([['x', true]]), new Map())).toThrow(/'x' has no outcome in 'b'/);
    expect(() => alignById(new Map(), new Map([['y', true]]))).toThrow(/'y' has no outcome in 'a'/);
  });
});

describe('bootstrap intervals', () => {
  const random = lcg(11);
  const outcomes = Array.from({ length: 120 }, () => random() < 0.4);

  it('are deterministic for a seed and differ between seeds', () => {
    const one = bootstrapProportion(outcomes, { seed: 3 });
    expect(bootstrapProportion(outcomes, { seed: 3 })).toEqual(one);
    expect(bootstrapProportion(outcomes, { seed: 4 })).not.toEqual(one);
    expect(one.estimate).toBe(outcomes.filter(Boolean).length / 120);
    expect(one.low!).toBeLessThan(one.estimate!);
    expect(one.high!).toBeGreaterThan(one.estimate!);
  });

  it('degenerate samples give degenerate intervals; no data gives nulls', () => {
    expect(bootstrapProportion([true, true, true])).toEqual({ estimate: 1, low: 1, high: 1, n: 3 });
    expect(bootstrapProportion([])).toEqual({ estimate: null, low: null, high: null, n: 0 });
    expect(bootstrapPairedDifference(outcomes, outcomes)).toEqual({ estimate: 0, low: 0, high: 0, n: 120 });
  });

  it('a paired difference against all-wrong is the proportion itself (same resampling stream)', () => {
    const never = outcomes.map(() => false);
    expect(bootstrapPairedDifference(outcomes, never, { seed: 9 })).toEqual(bootstrapProportion(outcomes, { seed: 9 }));
  });

  it('width is close to the normal-approximation width for a large sample', () => {
    const r = lcg(5);
    const big = Array.from({ length: 400 }, () => r() < 0.5);
    const p = big.filter(Boolean).length / 400;
    const interval = bootstrapProportion(big, { seed: 1, resamples: 2000 });
    const normalWidth = 2 * 1.959964 * Math.sqrt((p * (1 - p)) / 400);
    expect((interval.high! - interval.low!) / normalWidth).toBeGreaterThan(0.85);
    expect((interval.high! - interval.low!) / normalWidth).toBeLessThan(1.15);
  });

  it('covers the true proportion in about 95% of simulated samples', () => {
    const r = lcg(2024);
    const trials = 300;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const sample = Array.from({ length: 80 }, () => r() < 0.3);
      const interval = bootstrapProportion(sample, { seed: t, resamples: 400 });
      if (interval.low! <= 0.3 && 0.3 <= interval.high!) covered++;
    }
    // binomial sd of the coverage count at 0.95 is ~3.8; the percentile bootstrap runs slightly low at n = 80
    expect(covered / trials).toBeGreaterThan(0.88);
    expect(covered / trials).toBeLessThan(0.99);
  });

  it('refuse bad options, naming them', () => {
    expect(() => bootstrapProportion(outcomes, { resamples: 0 })).toThrow(/'resamples'/);
    expect(() => bootstrapProportion(outcomes, { level: 1 })).toThrow(/'level'/);
    expect(() => bootstrapPairedDifference([true], [true, false])).toThrow(/lengths 1 and 2/);
  });

  it('quantile interpolates between order statistics (type 7)', () => {
    const sorted = [1, 2, 3, 4, 5];
    expect(quantile(sorted, 0)).toBe(1);
    expect(quantile(sorted, 1)).toBe(5);
    expect(quantile(sorted, 0.5)).toBe(3);
    expect(quantile(sorted, 0.1)).toBeCloseTo(1.4, 15);
    expect(quantile([0, 10], 0.975)).toBeCloseTo(9.75, 15);
  });
});
