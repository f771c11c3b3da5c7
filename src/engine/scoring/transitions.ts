/**
 * Transition statistics between two conditions on the same ids (METHOD.md
 * section 3). In n_XY, X is the outcome under condition A and Y under B
 * (T = correct, F = wrong).
 */
import { bootstrapPairedDifference, bootstrapProportion, type BootstrapOptions, type Interval } from './bootstrap.js';
import { mcnemarExactP } from './mcnemar.js';

/** Counts and rates; a rate whose denominator is 0 is null. */
export interface TransitionStats {
  n: number;
  nTT: number;
  nTF: number;
  nFT: number;
  nFF: number;
  accA: number | null;
  accB: number | null;
  /** accA - accB */
  delta: number | null;
  /** nFT - nTF = n (accB - accA) = -n * delta: how many more ids B gets right than A */
  netGain: number;
  /** nTF / (nTT + nTF): of the ids right under A, the share wrong under B */
  sideEffectRate: number | null;
  /** nFT / (nFF + nFT): of the ids wrong under A, the share right under B */
  liftRate: number | null;
  /** McNemar exact two-sided p-value on the discordant pairs (nTF, nFT) */
  mcnemarP: number;
}

/** TransitionStats with bootstrap intervals on accA, accB and delta. */
export interface TransitionStatsWithIntervals extends TransitionStats {
  accAInterval: Interval;
  accBInterval: Interval;
  deltaInterval: Interval;
}

const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);

/**
 * Transition statistics of paired outcomes: a[i] and b[i] are the same id
 * under conditions A and B.
 * @throws RangeError when a and b differ in length
 */
export function transitionStats(a: readonly boolean[], b: readonly boolean[]): TransitionStats {
  if (a.length !== b.length) throw new RangeError(`transitionStats: 'a' and 'b' must be paired, got lengths ${a.length} and ${b.length}`);
  let nTT = 0;
  let nTF = 0;
  let nFT = 0;
  let nFF = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i]) b[i] ? nTT++ : nTF++;
    else b[i] ? nFT++ : nFF++;
  }
  const n = a.length;
  const accA = ratio(nTT + nTF, n);
  const accB = ratio(nTT + nFT, n);
  return {
    n,
    nTT,
    nTF,
    nFT,
    nFF,
    accA,
    accB,
    delta: accA === null || accB === null ? null : accA - accB,
    netGain: nFT - nTF,
    sideEffectRate: ratio(nTF, nTT + nTF),
    liftRate: ratio(nFT, nFF + nFT),
    mcnemarP: mcnemarExactP(nTF, nFT),
  };
}

/** transitionStats plus seeded bootstrap intervals (accuracies, and the paired difference for delta). */
export function transitionStatsWithIntervals(
  a: readonly boolean[],
  b: readonly boolean[],
  options: BootstrapOptions = {},
): TransitionStatsWithIntervals {
  return {
    ...transitionStats(a, b),
    accAInterval: bootstrapProportion(a, options),
    accBInterval: bootstrapProportion(b, options),
    deltaInterval: bootstrapPairedDifference(a, b, options),
  };
}

/**
 * Pairs outcomes keyed by example id, in sorted id order.
 * @throws RangeError naming an id present under one condition only
 */
export function alignById(
  a: ReadonlyMap<string, boolean>,
  b: ReadonlyMap<string, boolean>,
): { ids: string[]; a: boolean[]; b: boolean[] } {
  for (const [mine, other, name] of [[a, b, 'b'], [b, a, 'a']] as const) {
    for (const id of mine.keys()) {
      if (!other.has(id)) throw new RangeError(`alignById: id '${id}' has no outcome in '${name}'`);
    }
  }
  const ids = [...a.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return { ids, a: ids.map((id) => a.get(id)!), b: ids.map((id) => b.get(id)!) };
}
