/**
 * Seeded randomness for the world: every example draws from its own stream,
 * derived from (seed, stream name, index), so adding examples of one kind
 * never changes the examples of another and probes and training data come
 * from disjoint streams.
 */
import { SeededRandom } from '../engine/linalg/seeded-random.js';

/** FNV-1a over the text, then a murmur-style finaliser: a 32-bit seed. */
export function deriveSeed(seed: number, stream: string, index: number): number {
  if (!Number.isInteger(seed)) throw new RangeError(`'seed' must be an integer, got ${seed}`);
  const text = `${seed >>> 0}/${stream}/${index}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A mulberry32 stream with the few draws scene and question generators need. */
export class WorldRandom {
  private readonly source: SeededRandom;

  constructor(seed: number) {
    this.source = new SeededRandom(seed);
  }

  /** Integer uniform in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`int: 'hi' (${hi}) is below 'lo' (${lo})`);
    return lo + Math.floor(this.source.uniform() * (hi - lo + 1));
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick: 'items' is empty");
    return items[this.int(0, items.length - 1)]!;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.source.uniform() < p;
  }
}
