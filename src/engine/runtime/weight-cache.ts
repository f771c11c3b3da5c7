/**
 * The weight-memory budget: widened (float32) weight bundles of every model a
 * thread runs share one cache bounded by bytes, so two or
 * three models open at once (a Base/IN/RL comparison, a splice scored
 * zero-copy) hold no more widened weights together than one budget. What is
 * evicted is read again from the checkpoint (in its stored dtype) and widened
 * when its piece next runs.
 */
import { clearFloat32Pool, recycleFloat32 } from '../checkpoint/float32-pool.js';

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
  /** callers holding it through {@link WeightCache.lease} and not yet released */
  leases: number;
  /** handed out by {@link WeightCache.get}, with no release to wait for: its memory is never reused */
  escaped: boolean;
  /** the arrays whose memory may be reused once it is dropped and released (only values no one else holds) */
  reusable?: (value: unknown) => Iterable<Float32Array>;
  /** no longer in the cache */
  dropped: boolean;
  /** the value once loaded (so a dropped entry's arrays reach the pool at once) */
  loaded?: unknown;
}

/** A value held until released; see {@link WeightCache.lease}. */
export interface Lease<T> {
  value: T;
  release(): void;
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
  /** key -> tick of its last request and its bytes, for keys no longer held */
  readonly #ghosts = new Map<string, { lastUse: number; bytes: number }>();
  #bytes = 0;
  #peak = 0;
  #tick = 0;
  /** the largest entry seen: what the pool of reusable arrays may hold */
  #largest = 0;

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
    const entry = this.#request(key, load, bytesOf, owner);
    entry.escaped = true;
    return entry.value as Promise<T>;
  }

  /**
   * As {@link get}, held until `release()`. When the caller says which
   * arrays of the value nobody else holds (`reusable`: fresh reads of stored
   * bytes), their memory goes back to float32-pool.ts once the entry is both
   * dropped and released by every holder, and the next read of that shape
   * reuses it instead of mapping new pages. The value must not be used after
   * release.
   */
  async lease<T>(key: string, load: () => Promise<T>, bytesOf: (t: T) => number, owner?: string, reusable?: (t: T) => Iterable<Float32Array>): Promise<Lease<T>> {
    const entry = this.#request(key, load, bytesOf, owner);
    entry.leases++;
    if (reusable && !entry.reusable) entry.reusable = reusable as (value: unknown) => Iterable<Float32Array>;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      entry.leases--;
      this.#reuseIfFree(entry);
    };
    try {
      return { value: (await entry.value) as T, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  #request<T>(key: string, load: () => Promise<T>, bytesOf: (t: T) => number, owner: string | undefined): Entry {
    const now = ++this.#tick;
    const hit = this.#entries.get(key);
    if (hit) {
      if (owner !== undefined) hit.owners.add(owner);
      hit.gap = now - hit.lastUse;
      hit.lastUse = now;
      // re-insert: Map order is the recency order
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const ghost = this.#ghosts.get(key);
    this.#ghosts.delete(key);
    // an entry read before: make its room first, so what that frees is what this read lands in
    // (one that can never fit is handed out without flushing what does)
    if (ghost && ghost.bytes <= this.maxBytes) this.#evict(ghost.bytes);
    const before = ghost?.lastUse;
    const entry: Entry = {
      value: load(),
      bytes: 0,
      lastUse: now,
      gap: before === undefined ? undefined : now - before,
      owners: new Set(owner === undefined ? [] : [owner]),
      leases: 0,
      escaped: false,
      dropped: false,
    };
    this.#entries.set(key, entry);
    entry.value.then(
      (v) => {
        entry.loaded = v;
        if (this.#entries.get(key) !== entry) return;
        entry.bytes = bytesOf(v as T);
        this.#largest = Math.max(this.#largest, entry.bytes);
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
    return entry;
  }

  /** A dropped entry no one holds gives its reusable arrays back (at most the largest entry's worth waits in the pool). */
  #reuseIfFree(entry: Entry): void {
    // (an entry still loading has a holder, or escaped: it never gets here unloaded)
    if (!entry.dropped || entry.leases > 0 || entry.escaped || !entry.reusable || !('loaded' in entry)) return;
    const reusable = entry.reusable;
    entry.reusable = undefined;
    recycleFloat32(reusable(entry.loaded), this.#largest);
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

  /** Drops entries until what is kept, plus `incoming` bytes about to be read, fits the budget. */
  #evict(incoming = 0): void {
    while (this.#bytes + incoming > this.maxBytes) {
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
    this.#drop(key, entry);
    this.#ghosts.set(key, { lastUse: entry.lastUse, bytes: entry.bytes });
    if (this.#ghosts.size > MAX_GHOSTS) this.#ghosts.delete(this.#ghosts.keys().next().value!);
  }

  #drop(key: string, entry: Entry): void {
    this.#entries.delete(key);
    entry.dropped = true;
    this.#reuseIfFree(entry);
  }

  /** Forgets `owner` (a released model): drops the entries no other model asked for. */
  dropOwner(owner: string): void {
    for (const [key, entry] of this.#entries) {
      if (!entry.owners.delete(owner) || entry.owners.size > 0) continue;
      this.#drop(key, entry);
      this.#bytes -= entry.bytes;
    }
    // no weights left to read again: the pool's memory is not worth keeping
    if (this.#entries.size === 0) clearFloat32Pool();
  }

  /** Drops every entry whose key starts with `prefix`. */
  dropPrefix(prefix: string): void {
    for (const [key, entry] of this.#entries) {
      if (!key.startsWith(prefix)) continue;
      this.#drop(key, entry);
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
