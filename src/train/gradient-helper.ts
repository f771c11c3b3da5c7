/**
 * The trainer's side of {@link ./gradient.worker.ts}: one worker thread that
 * computes gradients of a second batch while the main thread computes the
 * first, for two-core data parallelism.
 */
import type { Worker } from 'node:worker_threads';
import { spawnTypeScriptWorker } from '../engine/workers/spawn-worker.js';
import type { TrainConfig } from './config.js';
import type { PlainBatch } from './data.js';
import type { GradientReply, GradientRequest } from './gradient.worker.js';
import type { Params } from './model.js';

/** The worker's answer: loss and gradients by parameter name. */
export interface RemoteGradients {
  loss: number;
  grads: Record<string, Float32Array>;
}

/** A gradient worker; `close` it when done. */
export class GradientHelper {
  readonly #worker: Worker;
  #pending: { resolve: (r: RemoteGradients) => void; reject: (e: Error) => void } | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: GradientReply) => {
      const pending = this.#pending;
      this.#pending = null;
      if (!pending) return;
      if ('error' in reply) pending.reject(new Error(`gradient worker: ${reply.error}`));
      else pending.resolve(reply);
    });
    worker.on('error', (err) => {
      this.#pending?.reject(err);
      this.#pending = null;
    });
  }

  /** Starts the worker for models of `config` and waits until it is ready. */
  static async start(config: TrainConfig): Promise<GradientHelper> {
    const worker = spawnTypeScriptWorker(new URL('./gradient.worker.ts', import.meta.url), { config });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return new GradientHelper(worker);
  }

  /**
   * Sends `batch` and the parameters `params` (not consumed); resolves once
   * sent, to `{ reply }`, the promise of the loss and the gradients of the
   * names in `trainable`, so the caller computes its own batch while the
   * worker runs (wrapped: an async function returning a bare promise would
   * wait for it). One request at a time.
   */
  async post(params: Params, trainable: readonly string[], batch: PlainBatch): Promise<{ reply: Promise<RemoteGradients> }> {
    if (this.#pending) throw new Error('GradientHelper: one request at a time');
    const sent: GradientRequest['params'] = {};
    for (const [name, a] of Object.entries(params)) sent[name] = { shape: a.shape, data: (await a.ref.data()) as Float32Array };
    const reply = new Promise<RemoteGradients>((resolve, reject) => (this.#pending = { resolve, reject }));
    this.#worker.postMessage({ params: sent, trainable: [...trainable], batch } satisfies GradientRequest);
    return { reply };
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
