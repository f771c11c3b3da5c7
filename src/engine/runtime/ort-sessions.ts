/**
 * The one adapter between model execution and onnxruntime-node. Sessions are
 * created once per graph key (piece kind + shape) and reused for every run;
 * the rest of the runtime sees only {@link Tensor} and {@link GraphSession}.
 */
import * as ort from 'onnxruntime-node';
import type { Tensor } from './tensor.js';

/** Options of a {@link SessionPool}. */
export interface SessionPoolOptions {
  /** intra-op threads per session [onnxruntime's default] */
  threads?: number;
}

/** A compiled graph. Feeds are float32 or int64 tensors; fetches come back as float32. */
export class GraphSession {
  #session: ort.InferenceSession | undefined;

  constructor(readonly key: string, session: ort.InferenceSession) {
    this.#session = session;
  }

  /** Output names of the graph. */
  get outputNames(): readonly string[] {
    return this.#live().outputNames;
  }

  #live(): ort.InferenceSession {
    if (!this.#session) throw new Error(`session '${this.key}' was released`);
    return this.#session;
  }

  /** Runs the graph; `fetches` limits which outputs are computed and returned [all]. */
  async run(feeds: Record<string, Tensor>, fetches?: readonly string[]): Promise<Record<string, Tensor>> {
    const session = this.#live();
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      ortFeeds[name] = t.data instanceof BigInt64Array ? new ort.Tensor('int64', t.data, t.dims) : new ort.Tensor('float32', t.data, t.dims);
    }
    const results = fetches ? await session.run(ortFeeds, [...fetches]) : await session.run(ortFeeds);
    const out: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(results)) {
      if (t.type !== 'float32') throw new TypeError(`output '${name}' of session '${this.key}' has type ${t.type}, expected float32`);
      out[name] = { data: t.data as Float32Array, dims: t.dims.map(Number) };
      t.dispose();
    }
    return out;
  }

  /** Frees the native session. */
  async release(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    if (s) await s.release();
  }
}

/**
 * Sessions keyed by graph identity. `get` builds the graph bytes only on a
 * miss; concurrent misses for one key share one creation.
 */
export class SessionPool {
  readonly #sessions = new Map<string, Promise<GraphSession>>();
  readonly #options: SessionPoolOptions;
  #created = 0;
  #released = false;

  private constructor(options: SessionPoolOptions) {
    this.#options = options;
  }

  /** A new, empty pool. Call {@link SessionPool.release} when done. */
  static async create(options: SessionPoolOptions = {}): Promise<SessionPool> {
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
      throw new RangeError(`'threads' must be a positive integer, got ${options.threads}`);
    }
    return new SessionPool({ ...options });
  }

  /** Number of sessions created so far (each key at most once). */
  get createdCount(): number {
    return this.#created;
  }

  /** Number of sessions currently alive. */
  get liveCount(): number {
    return this.#sessions.size;
  }

  /** The session for `key`, compiling `build()` on first use. */
  get(key: string, build: () => Uint8Array): Promise<GraphSession> {
    if (this.#released) return Promise.reject(new Error('session pool was released'));
    let s = this.#sessions.get(key);
    if (!s) {
      s = this.#create(key, build());
      this.#sessions.set(key, s);
      s.catch(() => this.#sessions.delete(key));
    }
    return s;
  }

  async #create(key: string, bytes: Uint8Array): Promise<GraphSession> {
    // Many sessions run one after another on the same cores: a session's threads must not
    // spin-wait after its run, or they compete with the next session's (measured: ~3x slower).
    const opts: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    };
    if (this.#options.threads !== undefined) {
      opts.intraOpNumThreads = this.#options.threads;
      opts.interOpNumThreads = 1;
    }
    const session = await ort.InferenceSession.create(bytes, opts);
    this.#created++;
    return new GraphSession(key, session);
  }

  /** Releases every session; the pool cannot be used afterwards. */
  async release(): Promise<void> {
    this.#released = true;
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    const results = await Promise.allSettled(all.map(async (s) => (await s).release()));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed && failed.status === 'rejected') throw failed.reason;
  }
}
