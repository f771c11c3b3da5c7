/**
 * The weight-memory budget: widened (float32) weight bundles of every model a
 * thread runs share one cache bounded by bytes, so two or
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
  /** tick of the last request */
  lastUse: number;
  /** ticks between its last two requests; undefined while requested once */
  gap: number | undefined;
  /** the models that asked for it (an entry shared by models goes when the last of them is released) */
  owners: Set<string>;
}

/** Forgotten keys whose last request is remembered, so a layer read again learns its reuse distance. */
const MAX_GHOSTS = 4096;

/**
 * A cache of loaded values bounded by their bytes. Past the budget it drops
 * the entry whose next request it expects last (Belady's rule, with each
 * entry's next request estimated from the distance between its last two):
 * a pass over layers that do not all fit would make least-recently-used
 * drop every layer just before it is needed again, so on such a cyclic scan
 * the same layers stay and only the excess is read again each pass.
 * Entries requested once, or no longer on their rhythm, go first, least
 * recently used first.
 */
export class WeightCache {
  readonly maxBytes: number;
  readonly #entries = new Map<string, Entry>();
  /** key -> tick of its last request, for keys no longer held */
  readonly #ghosts = new Map<string, number>();
  #bytes = 0;
  #peak = 0;
  #tick = 0;

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
  get<T>(key: string, load: () => Promise<T>, bytesOf: (t: T) => number, owner?: string): Promise<T> {
    const now = ++this.#tick;
    const hit = this.#entries.get(key);
    if (hit) {
      if (owner !== undefined) hit.owners.add(owner);
      hit.gap = now - hit.lastUse;
      hit.lastUse = now;
      // re-insert: Map order is the recency order
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit.value as Promise<T>;
    }
    const before = this.#ghosts.get(key);
    this.#ghosts.delete(key);
    const entry: Entry = { value: load(), bytes: 0, lastUse: now, gap: before === undefined ? undefined : now - before, owners: new Set(owner === undefined ? [] : [owner]) };
    this.#entries.set(key, entry);
    entry.value.then(
      (v) => {
        if (this.#entries.get(key) !== entry) return;
        entry.bytes = bytesOf(v as T);
        this.#peak = Math.max(this.#peak, this.#bytes + entry.bytes);
        // what can never fit is not kept, and does not flush what does
        if (entry.bytes > this.maxBytes) {
          this.#forget(key, entry);
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

  /**
   * When an entry is expected to be requested next: on its rhythm, one gap
   * after its last request (an overdue entry counts as due now until it is
   * two gaps late); Infinity when it has no rhythm.
   */
  #nextUse(e: Entry): number {
    if (e.gap === undefined) return Infinity;
    const due = e.lastUse + e.gap;
    if (due >= this.#tick) return due;
    return this.#tick - e.lastUse > 2 * e.gap ? Infinity : this.#tick;
  }

  #evict(): void {
    while (this.#bytes > this.maxBytes) {
      let victim: [string, Entry] | undefined;
      let furthest = -Infinity;
      // Map order is least recent first, so ties go to the least recently used
      for (const [key, entry] of this.#entries) {
        // entries still loading weigh nothing yet; their caller holds them anyway
        if (entry.bytes === 0) continue;
        const next = this.#nextUse(entry);
        if (next > furthest) [victim, furthest] = [[key, entry], next];
      }
      if (!victim) return;
      this.#bytes -= victim[1].bytes;
      this.#forget(...victim);
    }
  }

  #forget(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#ghosts.set(key, entry.lastUse);
    if (this.#ghosts.size > MAX_GHOSTS) this.#ghosts.delete(this.#ghosts.keys().next().value!);
  }

  /** Forgets `owner` (a released model): drops the entries no other model asked for. */
  dropOwner(owner: string): void {
    for (const [key, entry] of this.#entries) {
      if (!entry.owners.delete(owner) || entry.owners.size > 0) continue;
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
    }
  }

  /** Drops every entry whose key starts with `prefix`. */
  dropPrefix(prefix: string): void {
    for (const [key, entry] of this.#entries) {
      if (!key.startsWith(prefix)) continue;
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
    }
    for (const key of this.#ghosts.keys()) if (key.startsWith(prefix)) this.#ghosts.delete(key);
  }
}

let shared: WeightCache | undefined;

/** The cache every model of this thread shares, sized by `FRANKENSCOPE_WEIGHT_MEMORY_GB` when first used. */
export function sharedWeightCache(): WeightCache {
  shared ??= new WeightCache(weightMemoryBudgetBytes());
  return shared;
}
