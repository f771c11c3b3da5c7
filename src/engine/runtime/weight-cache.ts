/**
 * The weight-memory budget: widened (float32) weight bundles of every model a
 * thread runs share one least-recently-used cache bounded by bytes, so two or
 * three models open at once (a Base/IN/RL comparison, a splice scored
 * zero-copy) hold no more widened weights together than one budget. What is
 * evicted is read again from the checkpoint (in its stored dtype) and widened
 * when its piece next runs.
 */

/** Environment variable of the budget, in GB (10^9 bytes). */
export const WEIGHT_MEMORY_ENV = 'FRANKENSCOPE_WEIGHT_MEMORY_GB';

/**
 * 6 GB: a 7B BF16 checkpoint is 15 GB on disk and 30 GB widened, so on a
 * 24 GB machine it can never be resident whole; 6 GB of widened layers plus
 * the ~2.5 GB the engine needs besides leaves the OS ~15 GB of page cache,
 * which is what keeps the checkpoint's files in memory so re-reading an
 * evicted layer costs a memory copy, not a disk read.
 */
export const DEFAULT_WEIGHT_MEMORY_GB = 6;

/** The budget in bytes from `FRANKENSCOPE_WEIGHT_MEMORY_GB` (a number >= 0; unset or empty: the default). */
export function weightMemoryBudgetBytes(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env[WEIGHT_MEMORY_ENV]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_WEIGHT_MEMORY_GB * 1e9;
  const gb = Number(raw);
  if (!Number.isFinite(gb) || gb < 0) throw new RangeError(`${WEIGHT_MEMORY_ENV} must be a number of GB >= 0, got ${JSON.stringify(raw)}`);
  return gb * 1e9;
}

interface Entry {
  value: Promise<unknown>;
  bytes: number;
}

/** A least-recently-used cache of loaded values, bounded by their bytes. */
export class WeightCache {
  readonly maxBytes: number;
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #peak = 0;

  constructor(maxBytes: number) {
    if (!(maxBytes >= 0)) throw new RangeError(`'maxBytes' must be >= 0, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The most bytes held at once, the entry being loaded included (tests). */
  get peakBytes(): number {
    return this.#peak;
  }

  /**
   * The value under `key`, loaded on a miss. A value larger than the whole
   * budget is handed out but not kept, so a budget of 0 keeps nothing.
   */
  get<T>(key: string, load: () => Promise<T>, bytesOf: (t: T) => number): Promise<T> {
    const hit = this.#entries.get(key);
    if (hit) {
      // re-insert: Map order is the recency order
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit.value as Promise<T>;
    }
    const entry: Entry = { value: load(), bytes: 0 };
    this.#entries.set(key, entry);
    entry.value.then(
      (v) => {
        if (this.#entries.get(key) !== entry) return;
        entry.bytes = bytesOf(v as T);
        this.#peak = Math.max(this.#peak, this.#bytes + entry.bytes);
        // what can never fit is not kept, and does not flush what does
        if (entry.bytes > this.maxBytes) {
          this.#entries.delete(key);
          return;
        }
        this.#bytes += entry.bytes;
        this.#evict();
      },
      () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    return entry.value as Promise<T>;
  }

  #evict(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.maxBytes) return;
      // entries still loading weigh nothing yet; their caller holds them anyway
      if (entry.bytes === 0) continue;
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
    }
  }

  /** Drops every entry whose key starts with `prefix` (a released model's). */
  dropPrefix(prefix: string): void {
    for (const [key, entry] of this.#entries) {
      if (!key.startsWith(prefix)) continue;
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
    }
  }
}

let shared: WeightCache | undefined;

/** The cache every model of this thread shares, sized by `FRANKENSCOPE_WEIGHT_MEMORY_GB` when first used. */
export function sharedWeightCache(): WeightCache {
  shared ??= new WeightCache(weightMemoryBudgetBytes());
  return shared;
}
