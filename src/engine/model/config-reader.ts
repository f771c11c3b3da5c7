/**
 * Reading config.json keys with the checks every model family shares: typed
 * accessors that name the offending key, and the language-model keys that
 * all families built on Qwen2 read the same way.
 */

/** A config.json key that is missing, mistyped, inconsistent or not supported; `key` names it (dotted for nested keys). */
export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
  /** the offending key, e.g. `num_key_value_heads` or `vision_config.image_size` */
  readonly key: string;

  constructor(key: string, message: string) {
    super(message);
    this.key = key;
  }
}

export type Json = Record<string, unknown>;

export function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Reads keys from one or more JSON objects (the first that holds a non-null value wins). */
export class Reader {
  constructor(
    private readonly sources: Json[],
    private readonly prefix: string,
  ) {}

  #raw(key: string): unknown {
    for (const s of this.sources) if (s[key] !== undefined && s[key] !== null) return s[key];
    return undefined;
  }

  name(key: string): string {
    return this.prefix + key;
  }

  has(key: string): boolean {
    return this.#raw(key) !== undefined;
  }

  int(key: string, fallback?: number, min = 1): number {
    const v = this.#raw(key);
    if (v === undefined) {
      if (fallback === undefined) throw new ModelConfigError(this.name(key), `config.json: '${this.name(key)}' is required`);
      return fallback;
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new ModelConfigError(this.name(key), `config.json: '${this.name(key)}' must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  optionalId(key: string): number | null {
    return this.has(key) ? this.int(key, undefined, 0) : null;
  }

  positive(key: string, fallback: number): number {
    const v = this.#raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new ModelConfigError(this.name(key), `config.json: '${this.name(key)}' must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.#raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new ModelConfigError(this.name(key), `config.json: '${this.name(key)}' must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  numbers(key: string, fallback: number[], length: number): number[] {
    const v = this.#raw(key);
    if (v === undefined) return [...fallback];
    if (!Array.isArray(v) || v.length !== length || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new ModelConfigError(this.name(key), `config.json: '${this.name(key)}' must be an array of ${length} finite numbers, got ${JSON.stringify(v)}`);
    }
    return v as number[];
  }

  raw(key: string): unknown {
    return this.#raw(key);
  }
}

/** Refuses an activation other than the one the family builds. */
export function requireActivation(r: Reader, expected: string, fallback: string): void {
  const act = r.raw('hidden_act') ?? fallback;
  if (act !== expected) {
    throw new ModelConfigError(r.name('hidden_act'), `config.json: '${r.name('hidden_act')}' is ${JSON.stringify(act)}; only ${JSON.stringify(expected)} is built for this model type`);
  }
}

/** `eos_token_id` as a list (an int, a list, or absent). */
export function parseEos(value: unknown, key: string, file = 'config.json'): number[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw new ModelConfigError(key, `${file}: '${key}' must be a token id or a list of token ids, got ${JSON.stringify(value)}`);
  }
  return [...new Set(list as number[])];
}

/** The Qwen2 language-model keys every family reads, with that family's defaults. */
export interface TextModelKeys {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  vocabSize: number;
  tieWordEmbeddings: boolean;
  /** generation stops at any of them; empty when config.json names none */
  eosTokenIds: number[];
  bosTokenId: number | null;
  addBosToken: boolean;
}

/** Reads the language-model keys; `r` already points at the object(s) that hold them. */
export function parseTextModel(r: Reader, defaults: { rmsNormEps: number; readHeadDim?: boolean }): TextModelKeys {
  if (r.bool('use_sliding_window', false)) {
    throw new ModelConfigError(r.name('use_sliding_window'), `config.json: '${r.name('use_sliding_window')}' is true; sliding-window attention is not built`);
  }
  const hiddenSize = r.int('hidden_size');
  const intermediateSize = r.int('intermediate_size');
  const numLayers = r.int('num_hidden_layers');
  const numHeads = r.int('num_attention_heads');
  const numKvHeads = r.int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ModelConfigError(r.name('num_key_value_heads'), `config.json: 'num_attention_heads' (${numHeads}) must be a multiple of 'num_key_value_heads' (${numKvHeads})`);
  }
  let headDim: number;
  const readHeadDim = defaults.readHeadDim ?? true;
  if (readHeadDim && r.has('head_dim')) headDim = r.int('head_dim');
  else if (hiddenSize % numHeads !== 0) {
    throw new ModelConfigError(r.name('num_attention_heads'), `config.json: 'hidden_size' (${hiddenSize}) is not a multiple of 'num_attention_heads' (${numHeads}) and no 'head_dim' is given`);
  } else headDim = hiddenSize / numHeads;
  if (headDim % 2 !== 0) throw new ModelConfigError(r.name(readHeadDim && r.has('head_dim') ? 'head_dim' : 'num_attention_heads'), `config.json: the head size ${headDim} must be even (RoPE rotates halves)`);

  const vocabSize = r.int('vocab_size');
  const eosTokenIds = parseEos(r.raw('eos_token_id'), r.name('eos_token_id'));
  for (const id of eosTokenIds) checkTokenId(r.name('eos_token_id'), id, vocabSize);
  const bosTokenId = r.optionalId('bos_token_id');
  checkTokenId(r.name('bos_token_id'), bosTokenId, vocabSize);
  const addBosToken = r.bool('add_bos_token', false);
  if (addBosToken && bosTokenId === null) throw new ModelConfigError(r.name('bos_token_id'), `config.json: 'add_bos_token' is true but 'bos_token_id' is not set`);
  return {
    hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
    rmsNormEps: r.positive('rms_norm_eps', defaults.rmsNormEps),
    vocabSize,
    tieWordEmbeddings: r.bool('tie_word_embeddings', false),
    eosTokenIds, bosTokenId, addBosToken,
  };
}

/** Refuses a token id at or above the vocabulary size. */
export function checkTokenId(key: string, id: number | null, vocabSize: number): void {
  if (id !== null && id >= vocabSize) throw new ModelConfigError(key, `config.json: '${key}' (${id}) is not below 'vocab_size' (${vocabSize})`);
}
