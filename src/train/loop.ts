/**
 * A training phase: jitted value-and-gradient of the masked cross-entropy plus
 * Adam, until a step count or a wall-clock budget runs out. Frozen parameters
 * are passed to the loss as constants, so they get no gradient, no optimiser
 * state and come back as the very arrays that went in.
 */
import { jit, numpy as np, valueAndGrad } from '@jax-js/jax';
import { adamInit, type AdamState } from './adam.js';
import type { TrainConfig } from './config.js';
import type { PlainBatch } from './data.js';
import type { GradientHelper } from './gradient-helper.js';
import { disposeBatch, loss, refBatch, type Arr, type Batch, type Params } from './model.js';

/** Adam as in adam.ts, jitted as one fused update; dispose it when done. */
export interface JittedAdam {
  /** consumes `p`, `g` and the old moments of `s` */
  step(p: Params, g: Params, s: AdamState, lr: number): { params: Params; state: AdamState };
  dispose(): void;
}

/** A {@link JittedAdam}: the step-dependent scalars are arguments, so one trace serves every step. */
export function jittedAdam(): JittedAdam {
  const update = jit((p: Params, g: Params, m: Params, v: Params, lr: Arr, c1: Arr, c2: Arr) => {
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    const out: Params = {};
    const m2: Params = {};
    const v2: Params = {};
    for (const k of Object.keys(p)) {
      m2[k] = np.add(np.multiply(m[k]!, b1), np.multiply(g[k]!.ref, 1 - b1));
      v2[k] = np.add(np.multiply(v[k]!, b2), np.multiply(np.square(g[k]!), 1 - b2));
      const step = np.divide(np.divide(m2[k]!.ref, c1.ref), np.add(np.sqrt(np.divide(v2[k]!.ref, c2.ref)), eps));
      out[k] = np.subtract(p[k]!, np.multiply(step, lr.ref));
    }
    lr.dispose();
    c1.dispose();
    c2.dispose();
    return [out, m2, v2];
  }) as unknown as UpdateFn;
  return {
    step(p, g, s, lr) {
      const step = s.step + 1;
      const [out, m, v] = update(p, g, s.m, s.v, np.array(lr), np.array(1 - 0.9 ** step), np.array(1 - 0.999 ** step));
      return { params: out, state: { m, v, step } };
    },
    dispose: () => update.dispose(),
  };
}

/** One point of the loss curve. */
export interface CurvePoint {
  /** 1-based step number */
  step: number;
  /** the batch loss before this step's update */
  loss: number;
  /** wall-clock seconds since the phase started, after this step */
  seconds: number;
}

/** Options of {@link trainPhase}. */
export interface PhaseOptions {
  /** the starting parameters; consumed (use the returned ones) */
  params: Params;
  config: TrainConfig;
  /** a new pass over the data each call; the loop cycles through passes until it stops */
  batches: () => Iterable<Batch>;
  /** Adam learning rate, or a schedule of the 1-based step */
  lr: number | ((step: number) => number);
  /** stop after this many steps [Infinity] */
  maxSteps?: number;
  /** stop once this many seconds have passed [Infinity]; at least one of maxSteps and maxSeconds must be finite */
  maxSeconds?: number;
  /** parameters for which this returns true are not trained */
  frozen?: (name: string) => boolean;
  /** optimiser state of the trainable parameters to continue from (consumed) [fresh] */
  state?: AdamState;
  /** dispose each batch after its step (for iterables that build batches on the fly) [false] */
  disposeBatches?: boolean;
  onStep?: (point: CurvePoint) => void;
  /** every this many steps (and not after the last), `onCheckpoint` sees the current parameters [never] */
  checkpointEvery?: number;
  /** e.g. a greedy evaluation; must not consume `params` (its time counts toward maxSeconds) */
  onCheckpoint?: (params: Params, step: number) => Promise<void>;
  /**
   * two-core data parallelism: each step the helper computes the gradient of
   * `nextBatch()` while this thread computes its own batch, and the step
   * uses the mean of the two gradients (and of the two losses)
   */
  parallel?: { helper: GradientHelper; nextBatch: () => PlainBatch };
}

/** What {@link trainPhase} returns. */
export interface PhaseResult {
  params: Params;
  /** Adam state of the trainable parameters */
  state: AdamState;
  curve: CurvePoint[];
  /** why it stopped */
  stopped: 'steps' | 'seconds';
}

type StepFn = ((trainable: Params, frozen: Params, ids: Arr, targets: Arr, mask: Arr, ...images: Arr[]) => [Arr, Params]) & { dispose(): void };
type UpdateFn = ((p: Params, g: Params, m: Params, v: Params, lr: Arr, c1: Arr, c2: Arr) => [Params, Params, Params]) & { dispose(): void };

/**
 * Runs Adam steps over `batches` until `maxSteps` or `maxSeconds`. Each batch
 * shape is traced once (text and image batches by separate jitted functions).
 * Batches are left usable unless `disposeBatches` is set.
 * @throws RangeError when neither limit is finite, a limit or the learning rate is not positive,
 *   `frozen` freezes every parameter, or `batches` yields nothing
 */
export async function trainPhase(options: PhaseOptions): Promise<PhaseResult> {
  const { config, frozen = () => false, onStep } = options;
  const maxSteps = options.maxSteps ?? Infinity;
  const maxSeconds = options.maxSeconds ?? Infinity;
  if (!(maxSteps > 0) || !(maxSeconds > 0)) throw new RangeError(`'maxSteps' (${maxSteps}) and 'maxSeconds' (${maxSeconds}) must be positive`);
  if (maxSteps === Infinity && maxSeconds === Infinity) throw new RangeError("one of 'maxSteps' and 'maxSeconds' must be finite");
  const lrAt = typeof options.lr === 'number' ? ((lr: number) => () => lr)(options.lr) : options.lr;

  let trainable: Params = {};
  const fixed: Params = {};
  for (const [name, a] of Object.entries(options.params)) (frozen(name) ? fixed : trainable)[name] = a;
  if (Object.keys(trainable).length === 0) throw new RangeError("'frozen' freezes every parameter; nothing to train");
  let state = options.state ?? adamInit(trainable);

  // config is closed over: non-array arguments of jit become tracers
  const text = jit(
    valueAndGrad((t: Params, f: Params, ids: Arr, targets: Arr, mask: Arr) => loss({ ...t, ...f }, { ids, targets, mask }, config)),
  ) as unknown as StepFn;
  const vision = jit(
    valueAndGrad((t: Params, f: Params, ids: Arr, targets: Arr, mask: Arr, patches: Arr, place: Arr, keep: Arr) =>
      loss({ ...t, ...f }, { ids, targets, mask, images: { patches, place, keep } }, config),
    ),
  ) as unknown as StepFn;

  const adam = jittedAdam();
  const refs = (p: Params): Params => Object.fromEntries(Object.entries(p).map(([k, a]) => [k, a.ref]));
  const curve: CurvePoint[] = [];
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  let stopped: 'steps' | 'seconds' | null = null;
  try {
    while (stopped === null) {
      let yielded = false;
      for (const batch of options.batches()) {
        yielded = true;
        const lr = lrAt(state.step + 1);
        if (!(lr > 0)) throw new RangeError(`'lr' must be positive, got ${lr} at optimiser step ${state.step + 1}`);
        const b = refBatch(batch);
        const remote = options.parallel
          ? await options.parallel.helper.post({ ...trainable, ...fixed }, Object.keys(trainable), options.parallel.nextBatch())
          : undefined;
        let [value, grads] =
          b.images === undefined
            ? text(refs(trainable), refs(fixed), b.ids, b.targets, b.mask)
            : vision(refs(trainable), refs(fixed), b.ids, b.targets, b.mask, b.images.patches, b.images.place, b.images.keep);
        let lossValue: number;
        if (remote) {
          // reading the local loss first makes this thread compute while the worker does (jax-js may defer work until read)
          const localLoss = (await value.data())[0]!;
          const other = await remote.reply;
          const averaged: Params = {};
          for (const [k, g] of Object.entries(grads)) averaged[k] = np.multiply(np.add(g, np.array(other.grads[k]!).reshape(g.shape)), 0.5);
          grads = averaged;
          lossValue = (localLoss + other.loss) / 2;
          ({ params: trainable, state } = adam.step(trainable, grads, state, lr));
        } else {
          ({ params: trainable, state } = adam.step(trainable, grads, state, lr));
          lossValue = (await value.data())[0]!;
        }
        if (options.disposeBatches) disposeBatch(batch);
        const point = { step: curve.length + 1, loss: lossValue, seconds: elapsed() };
        curve.push(point);
        onStep?.(point);
        if (curve.length >= maxSteps) stopped = 'steps';
        else if (point.seconds >= maxSeconds) stopped = 'seconds';
        if (stopped !== null) break;
        if (options.onCheckpoint && options.checkpointEvery && curve.length % options.checkpointEvery === 0) {
          await options.onCheckpoint({ ...trainable, ...fixed }, curve.length);
        }
      }
      if (!yielded) throw new RangeError("'batches' yielded no batch");
    }
  } finally {
    text.dispose();
    vision.dispose();
    adam.dispose();
  }
  return { params: { ...trainable, ...fixed }, state, curve, stopped: stopped! };
}
