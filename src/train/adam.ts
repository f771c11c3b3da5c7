/**
 * Adam with bias correction over a {@link Params} record (jax-js has no
 * optimiser in core). The moments live in records shaped like the parameters.
 */
import { numpy as np } from '@jax-js/jax';
import type { Params } from './model.js';

/** Adam hyper-parameters. */
export interface AdamOptions {
  lr: number;
  /** [0.9] */
  beta1?: number;
  /** [0.999] */
  beta2?: number;
  /** [1e-8] */
  eps?: number;
}

/** Optimiser state: first and second moments and the step count. */
export interface AdamState {
  m: Params;
  v: Params;
  step: number;
}

/** Zero moments shaped like `params` (which stay usable). */
export function adamInit(params: Params): AdamState {
  const m: Params = {};
  const v: Params = {};
  for (const [k, a] of Object.entries(params)) {
    m[k] = np.zerosLike(a.ref);
    v[k] = np.zerosLike(a.ref);
  }
  return { m, v, step: 0 };
}

/**
 * One Adam step: returns the new parameters and state. Consumes `params`,
 * `grads` and `state` (the old moments).
 */
export function adamStep(params: Params, grads: Params, state: AdamState, options: AdamOptions): { params: Params; state: AdamState } {
  const { lr, beta1: b1 = 0.9, beta2: b2 = 0.999, eps = 1e-8 } = options;
  if (!(lr > 0)) throw new RangeError(`'lr' must be positive, got ${lr}`);
  const step = state.step + 1;
  const c1 = 1 - b1 ** step;
  const c2 = 1 - b2 ** step;
  const out: Params = {};
  const m: Params = {};
  const v: Params = {};
  for (const [k, p] of Object.entries(params)) {
    const g = grads[k];
    const m0 = state.m[k];
    const v0 = state.v[k];
    if (g === undefined || m0 === undefined || v0 === undefined) throw new RangeError(`no gradient or moment for parameter '${k}'`);
    m[k] = np.add(np.multiply(m0, b1), np.multiply(g.ref, 1 - b1));
    v[k] = np.add(np.multiply(v0, b2), np.multiply(np.square(g), 1 - b2));
    const update = np.divide(np.divide(m[k]!.ref, c1), np.add(np.sqrt(np.divide(v[k]!.ref, c2)), eps));
    out[k] = np.subtract(p, np.multiply(update, lr));
  }
  return { params: out, state: { m, v, step } };
}
