/**
 * The Qwen2 language model of docs/model.md written in jax-js, for gradient
 * steps. Parameters are a plain record keyed by the checkpoint's tensor names,
 * each in the checkpoint's `[out, in]` layout, so export is a copy.
 *
 * Ownership follows jax-js: {@link forward} and {@link loss} consume the arrays
 * they are given (pass {@link refParams} to keep using the parameters), which
 * is what `valueAndGrad(loss)(refParams(p), batch)` needs.
 */
import { numpy as np, nn, random } from '@jax-js/jax';
import { paramShapes, resolveConfig, type ResolvedConfig, type TrainConfig } from './config.js';
import { disposeVisual, prepareImages, visualTokens, type ImageInputs } from './vision.js';

/** A jax-js array. */
export type Arr = np.Array;
/** Tensor name -> array, names and shapes exactly as in docs/model.md. */
export type Params = Record<string, Arr>;

/** A training batch: next-token targets and a 0/1 mask of the positions that count. */
export interface Batch {
  /** int32 [B, T] */
  ids: Arr;
  /** int32 [B, T]: the id expected at each position's output */
  targets: Arr;
  /** float32 [B, T]: 1 where the position's loss counts, else 0 */
  mask: Arr;
  /** the batch's images, when the model has a vision tower and some row has one */
  images?: ImageInputs;
}

/** Initialisation scales. */
export interface InitOptions {
  /** standard deviation of the embedding rows [1/sqrt(hidden)] */
  embedStd?: number;
}

/** A new reference to every parameter, so a consuming call leaves `p` usable. */
export function refParams(p: Params): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(p)) out[k] = v.ref;
  return out;
}

/** Disposes every parameter array. */
export function disposeParams(p: Params): void {
  for (const v of Object.values(p)) v.dispose();
}

/**
 * Random parameters: linear weights N(0, 1/fan_in), biases 0, norms 1,
 * embeddings N(0, embedStd²). Deterministic in `seed`.
 */
export function initParams(config: TrainConfig, seed: number, options: InitOptions = {}): Params {
  const c = resolveConfig(config);
  const embedStd = options.embedStd ?? 1 / Math.sqrt(c.hidden);
  const p: Params = {};
  let stream = 0;
  for (const [name, shape] of paramShapes(config)) {
    const key = random.key((seed * 7919 + stream++) % 2147483647);
    if (name.endsWith('norm.weight')) p[name] = np.ones(shape);
    else if (name.endsWith('.bias')) p[name] = np.zeros(shape);
    else {
      const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
      const std = name === 'model.embed_tokens.weight' ? embedStd : 1 / Math.sqrt(fanIn);
      p[name] = np.multiply(random.normal(key, shape), std);
      continue;
    }
    key.dispose();
  }
  return p;
}

/** y = x Wᵀ (+ b), W stored [out, in]. */
function linear(x: Arr, w: Arr, b?: Arr): Arr {
  const y = np.matmul(x, np.transpose(w));
  return b === undefined ? y : np.add(y, b);
}

/** w ⊙ x / sqrt(mean(x²) + eps) over the last axis. */
function rmsNorm(x: Arr, w: Arr, eps: number): Arr {
  const inv = np.reciprocal(np.sqrt(np.add(np.mean(np.square(x.ref), -1, { keepdims: true }), eps)));
  return np.multiply(np.multiply(x, inv), w);
}

/** cos and sin of the angle vectors [pos·inv, pos·inv] for positions 0..T-1: [T, d] each. */
function ropeTables(c: ResolvedConfig, T: number): { cos: Arr; sin: Arr } {
  const d = c.headDim;
  const cos: number[][] = [];
  const sin: number[][] = [];
  for (let t = 0; t < T; t++) {
    const a = Array.from({ length: d }, (_, j) => t * c.ropeTheta ** ((-2 * (j % (d / 2))) / d));
    cos.push(a.map(Math.cos));
    sin.push(a.map(Math.sin));
  }
  return { cos: np.array(cos), sin: np.array(sin) };
}

/** x ⊙ cos + rotate_half(x) ⊙ sin on the last axis. */
function rope(x: Arr, cos: Arr, sin: Arr, d: number): Arr {
  const x1 = x.ref.slice([], [], [], [0, d / 2]);
  const x2 = x.ref.slice([], [], [], [d / 2, d]);
  return np.add(np.multiply(x, cos), np.multiply(np.concatenate([np.negative(x2), x1], -1), sin));
}

/**
 * Additive causal mask for queries grouped per key/value head: row r is query
 * position r mod T, so [g·T, T] serves the g query heads sharing one kv head.
 */
function groupedCausalMask(T: number, g: number): Arr {
  const rows = Array.from({ length: g * T }, (_, r) => Array.from({ length: T }, (_, j) => (j > r % T ? -1e9 : 0)));
  return np.array(rows);
}

/** Logits [B·T, V] from ids [B, T] (and images); consumes `p`, `ids` and `images`. */
function logitsFlat(p: Params, ids: Arr, c: ResolvedConfig, config: TrainConfig, images?: ImageInputs): Arr {
  const [B, T] = ids.shape as [number, number];
  const { headDim: d, numHeads: nh, numKvHeads: nkv, rmsNormEps: eps } = c;
  const g = nh / nkv;
  const { cos, sin } = ropeTables(c, T);
  const mask = groupedCausalMask(T, g);
  const embed = p['model.embed_tokens.weight']!;
  // [B, T, heads·d] -> [B, heads, T, d]
  const heads = (x: Arr, n: number): Arr => np.transpose(np.reshape(x, [B, T, n, d]), [0, 2, 1, 3]);
  let h = np.take(c.tieWordEmbeddings ? embed.ref : embed, np.reshape(ids, [B * T]), 0);
  if (images === undefined) disposeVisual(p);
  else {
    // the visual span's rows become the projector's rows, in order
    const tokens = visualTokens(p, images.patches, config);
    h = np.add(np.multiply(h, images.keep), np.matmul(images.place, tokens));
  }
  for (let i = 0; i < c.numLayers; i++) {
    const w = (s: string): Arr => p[`model.layers.${i}.${s}`]!;
    const u = rmsNorm(h.ref, w('input_layernorm.weight'), eps);
    const q = rope(heads(linear(u.ref, w('self_attn.q_proj.weight'), w('self_attn.q_proj.bias')), nh), cos.ref, sin.ref, d);
    const k = rope(heads(linear(u.ref, w('self_attn.k_proj.weight'), w('self_attn.k_proj.bias')), nkv), cos.ref, sin.ref, d);
    const v = heads(linear(u, w('self_attn.v_proj.weight'), w('self_attn.v_proj.bias')), nkv);
    // query head h = kv·g + j, so [B, nh, T, d] regrouped is [B, nkv, g·T, d]
    const qg = np.reshape(q, [B, nkv, g * T, d]);
    const scores = np.add(np.multiply(np.matmul(qg, np.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(d)), mask.ref);
    const o = np.reshape(np.matmul(nn.softmax(scores, -1), v), [B, nh, T, d]);
    const merged = np.reshape(np.transpose(o, [0, 2, 1, 3]), [B * T, nh * d]);
    h = np.add(h, linear(merged, w('self_attn.o_proj.weight')));
    const z = rmsNorm(h.ref, w('post_attention_layernorm.weight'), eps);
    const gate = linear(z.ref, w('mlp.gate_proj.weight'));
    const act = np.multiply(np.multiply(gate.ref, nn.sigmoid(gate)), linear(z, w('mlp.up_proj.weight')));
    h = np.add(h, linear(act, w('mlp.down_proj.weight')));
  }
  cos.dispose();
  sin.dispose();
  mask.dispose();
  const head = c.tieWordEmbeddings ? embed : p['lm_head.weight']!;
  return linear(rmsNorm(h, p['model.norm.weight']!, eps), head);
}

/** Checks that `ids` is a non-empty rectangle of ids in [0, vocabSize). */
function checkIds(name: string, ids: readonly (readonly number[])[], vocabSize: number): [number, number] {
  const B = ids.length;
  const T = ids[0]?.length ?? 0;
  if (B === 0 || T === 0) throw new RangeError(`'${name}' must be a non-empty [B][T] array`);
  for (const row of ids) {
    if (row.length !== T) throw new RangeError(`'${name}' rows must all have length ${T}, got ${row.length}`);
    for (const id of row) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new RangeError(`'${name}' holds ${id}, outside [0, ${vocabSize})`);
    }
  }
  return [B, T];
}

/**
 * Logits [B, T, V] for token ids [B][T] (no padding; position = index), with
 * an optional normalised image [C, h, w] per row for a vision model. Consumes `params`.
 */
export function forward(
  params: Params,
  ids: readonly (readonly number[])[],
  config: TrainConfig,
  pixels?: readonly (Float32Array | null | undefined)[],
): Arr {
  const c = resolveConfig(config);
  const [B, T] = checkIds('ids', ids, c.vocabSize);
  const images = prepareImages(ids, pixels, config);
  const idArr = np.array(ids.map((r) => [...r]), { dtype: np.int32 });
  return np.reshape(logitsFlat(params, idArr, c, config, images), [B, T, c.vocabSize]);
}

/** Builds a {@link Batch} from plain arrays, checking shapes, ranges and that some position counts. */
export function makeBatch(
  ids: readonly (readonly number[])[],
  targets: readonly (readonly number[])[],
  mask: readonly (readonly number[])[],
  config: TrainConfig,
  pixels?: readonly (Float32Array | null | undefined)[],
): Batch {
  const { vocabSize } = resolveConfig(config);
  const [B, T] = checkIds('ids', ids, vocabSize);
  const [Bt, Tt] = checkIds('targets', targets, vocabSize);
  if (Bt !== B || Tt !== T) throw new RangeError(`'targets' is [${Bt}, ${Tt}], expected [${B}, ${T}] like 'ids'`);
  if (mask.length !== B || mask.some((r) => r.length !== T)) throw new RangeError(`'mask' must be [${B}, ${T}] like 'ids'`);
  if (!mask.some((r) => r.some((m) => m !== 0))) throw new RangeError("'mask' selects no position");
  const images = prepareImages(ids, pixels, config);
  return {
    ...(images === undefined ? {} : { images }),
    ids: np.array(ids.map((r) => [...r]), { dtype: np.int32 }),
    targets: np.array(targets.map((r) => [...r]), { dtype: np.int32 }),
    mask: np.array(mask.map((r) => [...r])),
  };
}

/** New references to the batch arrays, so a consuming call leaves `b` usable. */
export function refBatch(b: Batch): Batch {
  const out: Batch = { ids: b.ids.ref, targets: b.targets.ref, mask: b.mask.ref };
  if (b.images !== undefined) out.images = { patches: b.images.patches.ref, place: b.images.place.ref, keep: b.images.keep.ref };
  return out;
}

/** Disposes the batch arrays. */
export function disposeBatch(b: Batch): void {
  b.ids.dispose();
  b.targets.dispose();
  b.mask.dispose();
  if (b.images !== undefined) for (const a of Object.values(b.images)) a.dispose();
}

/**
 * `p => loss(p, batch)` that leaves `batch` usable (dispose it yourself), for
 * `valueAndGrad(lossOf(batch, config))(refParams(p))`. Non-array arguments must
 * not be passed through `valueAndGrad` or `jit` (they become tracers): close
 * over the config, and for a jitted step take the batch arrays as arguments.
 */
export function lossOf(batch: Batch, config: TrainConfig): (p: Params) => Arr {
  return (p) => loss(p, refBatch(batch), config);
}

/**
 * Mean cross-entropy over the masked positions: −Σ mask·log p(target) / Σ mask.
 * Consumes `params` and the batch arrays; differentiate with
 * `valueAndGrad((p) => loss(p, batch, config))` or pass the batch with `.ref`s.
 */
export function loss(params: Params, batch: Batch, config: TrainConfig): Arr {
  const c = resolveConfig(config);
  const [B, T] = batch.ids.shape as [number, number];
  const logp = nn.logSoftmax(logitsFlat(params, batch.ids, c, config, batch.images), -1);
  const picked = np.sum(np.multiply(logp, nn.oneHot(np.reshape(batch.targets, [B * T]), c.vocabSize)), -1);
  const m = np.reshape(batch.mask, [B * T]);
  return np.negative(np.divide(np.sum(np.multiply(picked, m.ref)), np.sum(m)));
}

/**
 * A policy-gradient batch: sampled completions after their prompts, with a
 * per-position weight (advantage over the normaliser) on the completion's
 * targets and, for the KL penalty, the reference model's log-probabilities.
 */
export interface PolicyBatch {
  /** int32 [B, T] */
  ids: Arr;
  /** int32 [B, T] */
  targets: Arr;
  /** float32 [B, T]: advantage / normaliser on completion targets, 0 elsewhere */
  weights: Arr;
  /** float32 [B, T]: 1 / normaliser on completion targets, 0 elsewhere (KL weights) */
  klWeights: Arr;
  /** float32 [B, T]: log p_ref(target) on completion targets, 0 elsewhere */
  refLogProbs: Arr;
  images?: ImageInputs;
}

/**
 * The GRPO objective for one on-policy step (the importance ratio is 1, so
 * clipping has no effect): −Σ w·log p(target) + β·Σ k·(e^{r−l} − (r−l) − 1),
 * the second sum the unbiased "k3" estimate of KL(π‖π_ref) with l = log p,
 * r = log p_ref. Consumes `params` and the batch arrays.
 */
export function policyLoss(params: Params, batch: PolicyBatch, config: TrainConfig, beta: number): Arr {
  const c = resolveConfig(config);
  const [B, T] = batch.ids.shape as [number, number];
  const logp = nn.logSoftmax(logitsFlat(params, batch.ids, c, config, batch.images), -1);
  const picked = np.sum(np.multiply(logp, nn.oneHot(np.reshape(batch.targets, [B * T]), c.vocabSize)), -1);
  const pg = np.negative(np.sum(np.multiply(picked.ref, np.reshape(batch.weights, [B * T]))));
  if (beta === 0) {
    picked.dispose();
    batch.klWeights.dispose();
    batch.refLogProbs.dispose();
    return pg;
  }
  const diff = np.subtract(np.reshape(batch.refLogProbs, [B * T]), picked);
  const k3 = np.subtract(np.subtract(np.exp(diff.ref), diff), 1);
  return np.add(pg, np.multiply(np.sum(np.multiply(k3, np.reshape(batch.klWeights, [B * T]))), beta));
}
