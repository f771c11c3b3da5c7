/**
 * GRPO with verifiable rewards: each iteration samples a group of completions
 * per prompt in the ONNX engine (the trainer's weights are handed over in
 * memory), rewards them by exact match, normalises rewards within each group
 * into advantages and takes one Adam step on the policy-gradient objective
 * (optionally with a KL penalty to a frozen reference) in jax-js.
 *
 * Rollouts run in onnxruntime because sampling token by token is ~80x
 * cheaper per FLOP there than in WebAssembly autodiff (docs/training-notes.md).
 */
import { jit, numpy as np, valueAndGrad } from '@jax-js/jax';
import { HookedRunner, MemoryWeights, type SessionPool, type WeightSource } from '../engine/runtime/index.js';
import { adamInit, type AdamState } from './adam.js';
import type { TrainConfig } from './config.js';
import { exportParams } from './checkpoint.js';
import { modelConfigOf } from './data.js';
import { jittedAdam } from './loop.js';
import { policyLoss, type Arr, type Params, type PolicyBatch } from './model.js';
import { exactMatchReward, type EnginePrompt } from './prompts.js';
import { prepareImages } from './vision.js';

/**
 * Group-normalised advantages: (r − mean) / (std + eps) within each group of
 * `groupSize` consecutive rewards (population std). A group whose rewards
 * are all equal carries no signal and gets 0.
 */
export function groupAdvantages(rewards: readonly number[], groupSize: number, eps = 1e-6): number[] {
  if (!Number.isInteger(groupSize) || groupSize < 2) throw new RangeError(`'groupSize' must be an integer >= 2, got ${groupSize}`);
  if (rewards.length % groupSize !== 0) throw new RangeError(`${rewards.length} rewards do not split into groups of ${groupSize}`);
  const out: number[] = [];
  for (let g = 0; g < rewards.length; g += groupSize) {
    const group = rewards.slice(g, g + groupSize);
    const mean = group.reduce((a, b) => a + b, 0) / groupSize;
    const std = Math.sqrt(group.reduce((a, r) => a + (r - mean) ** 2, 0) / groupSize);
    for (const r of group) out.push(std === 0 ? 0 : (r - mean) / (std + eps));
  }
  return out;
}

/** One sampled completion laid out for the gradient step. */
export interface Rollout {
  prompt: EnginePrompt;
  /** generated ids, with the end-of-text id when generation stopped on it */
  completion: number[];
  text: string;
  reward: number;
  advantage: number;
}

/** Plain arrays of a {@link PolicyBatch}, right-padded to `length`. */
export interface PlainPolicyBatch {
  length: number;
  ids: number[][];
  targets: number[][];
  weights: number[][];
  klWeights: number[][];
  refLogProbs: number[][];
  pixels: (Float32Array | null)[];
}

/**
 * Lays rollouts out as prompt + completion rows: target t is sequence[t + 1];
 * completion targets get advantage / N and 1 / M, M the number of completion
 * tokens of these rows and N that of the whole batch they were taken from
 * (`policyTokens`, default M): token-level means, so long answers are not
 * down-weighted. `refLogProbs[i]` holds the reference log-probability of
 * each completion token of row i (zeros without a KL penalty).
 */
export function policyRows(
  rollouts: readonly Rollout[],
  length: number,
  padId: number,
  refLogProbs?: readonly (readonly number[])[],
  policyTokens?: number,
): PlainPolicyBatch {
  const own = rollouts.reduce((a, r) => a + r.completion.length, 0);
  if (own === 0) throw new RangeError('the rollouts hold no completion token');
  const total = policyTokens ?? own;
  if (!(total >= own)) throw new RangeError(`'policyTokens' (${policyTokens}) is fewer than the rows' ${own} completion tokens`);
  const out: PlainPolicyBatch = { length, ids: [], targets: [], weights: [], klWeights: [], refLogProbs: [], pixels: [] };
  rollouts.forEach((r, i) => {
    const full = [...r.prompt.inputIds, ...r.completion];
    const n = full.length - 1;
    if (n > length) throw new RangeError(`rollout ${i} ('${r.prompt.id}') has ${n} positions, more than the padded length ${length}`);
    const first = r.prompt.inputIds.length - 1;
    const pad = (row: number[], v: number): number[] => [...row, ...new Array<number>(length - row.length).fill(v)];
    const zeros = new Array<number>(length).fill(0);
    const w = [...zeros];
    const k = [...zeros];
    const ref = [...zeros];
    r.completion.forEach((_, j) => {
      w[first + j] = r.advantage / total;
      k[first + j] = 1 / own;
      ref[first + j] = refLogProbs?.[i]?.[j] ?? 0;
    });
    out.ids.push(pad(full.slice(0, n), padId));
    out.targets.push(pad(full.slice(1), padId));
    out.weights.push(w);
    out.klWeights.push(k);
    out.refLogProbs.push(ref);
    out.pixels.push(r.prompt.pixels ?? null);
  });
  return out;
}

/**
 * Which rows the gradient step needs: the groups with reward spread (the
 * others have advantage 0 and add nothing to the policy term), plus as many
 * of the others, in order, as it takes for `multiple` (the micro-batch) to
 * divide the count. Indices in order.
 */
export function gradientRowsOf(advantages: readonly number[], groupSize: number, multiple: number): number[] {
  const groups = advantages.length / groupSize;
  const informative: number[] = [];
  const flat: number[] = [];
  for (let g = 0; g < groups; g++) (advantages.slice(g * groupSize, (g + 1) * groupSize).some((a) => a !== 0) ? informative : flat).push(g);
  const kept = new Set(informative);
  for (const g of flat) {
    if ((kept.size * groupSize) % multiple === 0) break;
    kept.add(g);
  }
  if ((kept.size * groupSize) % multiple !== 0) return advantages.map((_, i) => i);
  return [...kept].sort((a, b) => a - b).flatMap((g) => Array.from({ length: groupSize }, (_, j) => g * groupSize + j));
}

/** One point of the RL curve. */
export interface RlPoint {
  iteration: number;
  /** mean reward of the sampled completions (the sampled accuracy) */
  reward: number;
  /** share of groups with any reward spread (the others carry no gradient) */
  informativeGroups: number;
  /** the objective before the update (0 when the step was skipped) */
  loss: number;
  meanCompletionTokens: number;
  /** rows the gradient step took (all, or the informative groups' with `informativeOnly`) */
  gradientRows: number;
  /** this iteration's time sampling completions in the engine */
  rolloutSeconds: number;
  /** this iteration's time in the reference scoring and the gradient step */
  updateSeconds: number;
  seconds: number;
}

/** Options of {@link grpo}. */
export interface GrpoOptions {
  /** the starting policy; consumed (use the returned parameters) */
  params: Params;
  config: TrainConfig;
  /** prompts of iteration i (all with images or all without, so the jitted shapes stay few) */
  prompts: (iteration: number) => readonly EnginePrompt[];
  /** completions per prompt (G) */
  groupSize: number;
  /** sampling temperature [1] */
  temperature?: number;
  maxNewTokens: number;
  lr: number;
  /** KL penalty weight; > 0 needs `reference` [0] */
  beta?: number;
  /** the frozen reference policy (IN) for the KL penalty */
  reference?: WeightSource;
  /** rows per gradient micro-batch (must divide the P·G rows evenly to keep one traced shape) [all rows] */
  microBatch?: number;
  /**
   * take the gradient over the groups with reward spread only
   * ({@link gradientRowsOf}): the policy term is unchanged (its weights keep
   * the whole batch's normaliser), the KL term becomes the mean over the kept
   * rows' tokens, and the step costs the share of informative groups [false]
   */
  informativeOnly?: boolean;
  /** padded lengths of the gradient batch; the largest must fit the longest prompt plus maxNewTokens */
  buckets: readonly number[];
  maxIterations: number;
  /** stop once this many seconds have passed [Infinity] */
  maxSeconds?: number;
  /** parameters for which this returns true are not trained */
  frozen?: (name: string) => boolean;
  /** sampling seed; iteration i samples with seed·100003 + i */
  seed: number;
  eosTokenId: number;
  /** ids never sampled (the image placeholder and vision markers, which need pixels) [none] */
  suppressTokenIds?: readonly number[];
  decode: (ids: readonly number[]) => string;
  /** reward of a completion [exact match of the prompt's answer: {@link exactMatchReward}] */
  reward?: (prompt: EnginePrompt, completion: string, ids: readonly number[]) => number;
  /** sessions shared by every rollout runner */
  pool: SessionPool;
  onIteration?: (point: RlPoint, rollouts: readonly Rollout[]) => void;
}

type PolicyStep = ((t: Params, f: Params, ids: Arr, targets: Arr, w: Arr, k: Arr, ref: Arr, ...images: Arr[]) => [Arr, Params]) & { dispose(): void };

/**
 * Runs GRPO iterations until `maxIterations` or `maxSeconds`. Frozen
 * parameters come back as the arrays that went in.
 */
export async function grpo(options: GrpoOptions): Promise<{ params: Params; state: AdamState; curve: RlPoint[]; stopped: 'iterations' | 'seconds' }> {
  const { config, groupSize, maxNewTokens, eosTokenId, frozen = () => false } = options;
  const beta = options.beta ?? 0;
  const temperature = options.temperature ?? 1;
  if (beta < 0 || !Number.isFinite(beta)) throw new RangeError(`'beta' must be a finite number >= 0, got ${beta}`);
  if (beta > 0 && options.reference === undefined) throw new RangeError("'beta' > 0 needs a 'reference' model for the KL penalty");
  if (!(temperature > 0)) throw new RangeError(`'temperature' must be positive for sampling, got ${temperature}`);
  if (!(options.lr > 0)) throw new RangeError(`'lr' must be positive, got ${options.lr}`);
  const buckets = [...options.buckets].sort((a, b) => a - b);
  const model = modelConfigOf(config);
  let trainable: Params = {};
  const fixed: Params = {};
  for (const [name, a] of Object.entries(options.params)) (frozen(name) ? fixed : trainable)[name] = a;
  if (Object.keys(trainable).length === 0) throw new RangeError("'frozen' freezes every parameter; nothing to train");
  let state = adamInit(trainable);
  const adam = jittedAdam();
  const loss = (t: Params, f: Params, ids: Arr, targets: Arr, weights: Arr, klWeights: Arr, refLogProbs: Arr, images?: PolicyBatch['images']): Arr =>
    policyLoss({ ...t, ...f }, { ids, targets, weights, klWeights, refLogProbs, ...(images ? { images } : {}) }, config, beta);
  const text = jit(valueAndGrad((t: Params, f: Params, ids: Arr, tg: Arr, w: Arr, k: Arr, r: Arr) => loss(t, f, ids, tg, w, k, r))) as unknown as PolicyStep;
  const vision = jit(
    valueAndGrad((t: Params, f: Params, ids: Arr, tg: Arr, w: Arr, k: Arr, r: Arr, patches: Arr, place: Arr, keep: Arr) =>
      loss(t, f, ids, tg, w, k, r, { patches, place, keep }),
    ),
  ) as unknown as PolicyStep;
  const reference = options.reference ? await HookedRunner.create({ weights: options.reference, pool: options.pool }) : undefined;
  const refs = (p: Params): Params => Object.fromEntries(Object.entries(p).map(([k, a]) => [k, a.ref]));
  const curve: RlPoint[] = [];
  const t0 = performance.now();
  let stopped: 'iterations' | 'seconds' = 'iterations';
  try {
    for (let iteration = 1; iteration <= options.maxIterations; iteration++) {
      const iterationStart = performance.now();
      const prompts = options.prompts(iteration);
      if (prompts.length === 0) throw new RangeError(`'prompts' returned no prompt for iteration ${iteration}`);
      const policy = await HookedRunner.create({
        weights: new MemoryWeights(model, await exportParams({ ...trainable, ...fixed })),
        pool: options.pool,
      });
      const rows = prompts.flatMap((p) => new Array<EnginePrompt>(groupSize).fill(p));
      const generated = await policy.generate(
        rows.map((p) => ({ inputIds: p.inputIds, ...(p.pixels ? { pixels: p.pixels } : {}) })),
        { maxNewTokens, temperature, seed: options.seed * 100003 + iteration, eosTokenIds: [eosTokenId], suppressTokenIds: options.suppressTokenIds },
      );
      const rolloutEnd = performance.now();
      const reward = options.reward ?? ((p: EnginePrompt, text: string) => exactMatchReward(p, text));
      const rewards = rows.map((p, i) => reward(p, options.decode(generated.tokens[i]!), generated.tokens[i]!));
      const advantages = groupAdvantages(rewards, groupSize);
      const rollouts: Rollout[] = rows.map((prompt, i) => ({
        prompt,
        completion: generated.finish[i] === 'eos' ? [...generated.tokens[i]!, eosTokenId] : generated.tokens[i]!,
        text: options.decode(generated.tokens[i]!),
        reward: rewards[i]!,
        advantage: advantages[i]!,
      }));
      let lossValue = 0;
      const allTokens = rollouts.reduce((a, r) => a + r.completion.length, 0);
      const picked = options.informativeOnly ? gradientRowsOf(advantages, groupSize, options.microBatch ?? 1).map((i) => rollouts[i]!) : rollouts;
      const micro = options.microBatch ?? picked.length;
      const anySpread = advantages.some((a) => a !== 0);
      if (anySpread) {
        const longest = Math.max(...picked.map((r) => r.prompt.inputIds.length + r.completion.length - 1));
        const length = buckets.find((b) => b >= longest);
        if (length === undefined) throw new RangeError(`a rollout needs ${longest} positions, more than the largest bucket ${buckets.at(-1)}`);
        const refLogProbs = reference
          ? (await reference.score(picked.map((r) => ({ inputIds: r.prompt.inputIds, answerIds: r.completion, ...(r.prompt.pixels ? { pixels: r.prompt.pixels } : {}) })))).tokenLogProbs
          : undefined;
        const plain = policyRows(picked, length, eosTokenId, refLogProbs, allTokens);
        // micro-batches bound the autodiff memory (wasm has a 4 GiB heap); the weights already carry the
        // whole batch's normaliser, so the micro-batch gradients add up to the batch gradient
        let total: Params | null = null;
        for (let start = 0; start < picked.length; start += micro) {
          const pick = <T>(a: T[]): T[] => a.slice(start, start + micro);
          const images = prepareImages(pick(plain.ids), pick(plain.pixels), config);
          const args = [
            np.array(pick(plain.ids), { dtype: np.int32 }),
            np.array(pick(plain.targets), { dtype: np.int32 }),
            np.array(pick(plain.weights)),
            np.array(pick(plain.klWeights)),
            np.array(pick(plain.refLogProbs)),
          ] as const;
          const [value, grads] =
            images === undefined
              ? text(refs(trainable), refs(fixed), ...args)
              : vision(refs(trainable), refs(fixed), ...args, images.patches, images.place, images.keep);
          lossValue += (await value.data())[0]!;
          if (total === null) total = grads;
          else {
            const sum: Params = {};
            for (const [k, g] of Object.entries(grads)) sum[k] = np.add(total[k]!, g);
            total = sum;
          }
        }
        ({ params: trainable, state } = adam.step(trainable, total!, state, options.lr));
      }
      let informative = 0;
      for (let g = 0; g < rows.length; g += groupSize) if (advantages.slice(g, g + groupSize).some((a) => a !== 0)) informative++;
      const point: RlPoint = {
        iteration,
        reward: rewards.reduce((a, b) => a + b, 0) / rewards.length,
        informativeGroups: informative / prompts.length,
        loss: lossValue,
        meanCompletionTokens: allTokens / rollouts.length,
        gradientRows: anySpread ? picked.length : 0,
        rolloutSeconds: (rolloutEnd - iterationStart) / 1000,
        updateSeconds: (performance.now() - rolloutEnd) / 1000,
        seconds: (performance.now() - t0) / 1000,
      };
      curve.push(point);
      options.onIteration?.(point, rollouts);
      if (point.seconds >= (options.maxSeconds ?? Infinity)) {
        stopped = 'seconds';
        break;
      }
    }
  } finally {
    text.dispose();
    vision.dispose();
    adam.dispose();
  }
  return { params: { ...trainable, ...fixed }, state, curve, stopped };
}
