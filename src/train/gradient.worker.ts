/**
 * A second core for training: computes the loss and gradient of one batch
 * for the parameters it is sent (jax-js is single-threaded, so data
 * parallelism needs a thread of its own). Protocol: {@link GradientRequest}
 * in, {@link GradientReply} out.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { defaultDevice, init, jit, numpy as np, valueAndGrad } from '@jax-js/jax';
import type { TrainConfig } from './config.js';
import { toBatch, type PlainBatch } from './data.js';
import { loss, type Arr, type Params } from './model.js';

/** What the trainer sends each step. */
export interface GradientRequest {
  /** every parameter (trainable and frozen) by name */
  params: Record<string, { shape: number[]; data: Float32Array }>;
  /** names of the parameters that get a gradient */
  trainable: string[];
  batch: PlainBatch;
}

/** What comes back: the loss and the gradient of every trainable parameter, or an error message. */
export type GradientReply = { loss: number; grads: Record<string, Float32Array> } | { error: string };

const port = parentPort!;
const config = workerData.config as TrainConfig;
await init('wasm');
defaultDevice('wasm');

type StepFn = ((t: Params, f: Params, ids: Arr, targets: Arr, mask: Arr, ...images: Arr[]) => [Arr, Params]) & { dispose(): void };
const text = jit(valueAndGrad((t: Params, f: Params, ids: Arr, targets: Arr, mask: Arr) => loss({ ...t, ...f }, { ids, targets, mask }, config))) as unknown as StepFn;
const vision = jit(
  valueAndGrad((t: Params, f: Params, ids: Arr, targets: Arr, mask: Arr, patches: Arr, place: Arr, keep: Arr) =>
    loss({ ...t, ...f }, { ids, targets, mask, images: { patches, place, keep } }, config),
  ),
) as unknown as StepFn;

port.on('message', async (request: GradientRequest) => {
  try {
    const trainable: Params = {};
    const fixed: Params = {};
    const wanted = new Set(request.trainable);
    for (const [name, p] of Object.entries(request.params)) (wanted.has(name) ? trainable : fixed)[name] = np.array(p.data).reshape(p.shape);
    const b = toBatch(request.batch, config);
    const [value, grads] =
      b.images === undefined
        ? text(trainable, fixed, b.ids, b.targets, b.mask)
        : vision(trainable, fixed, b.ids, b.targets, b.mask, b.images.patches, b.images.place, b.images.keep);
    const out: Record<string, Float32Array> = {};
    for (const [name, g] of Object.entries(grads)) out[name] = (await g.data()) as Float32Array;
    const lossValue = (await value.data())[0]!;
    port.postMessage({ loss: lossValue, grads: out } satisfies GradientReply, Object.values(out).map((a) => a.buffer as ArrayBuffer));
  } catch (err) {
    port.postMessage({ error: (err as Error).stack ?? String(err) } satisfies GradientReply);
  }
});
port.postMessage({ ready: true });
