/**
 * Main-thread handle on a model worker thread. onnxruntime's run() blocks the
 * thread it runs on, so model execution lives in a worker; analyses are
 * modules the worker imports by URL (see job-protocol.ts), so new analyses
 * need no change here.
 */
import type { Worker } from 'node:worker_threads';
import { spawnTypeScriptWorker } from '../workers/spawn-worker.js';
import type { SerializedError, WorkerReply, WorkerRequest } from './job-protocol.js';

/** An error raised inside a worker job, with its original name and code. */
export class ModelJobError extends Error {
  readonly code: string | undefined;

  constructor(e: SerializedError) {
    super(e.message);
    this.name = e.name;
    this.code = e.code;
  }
}

/** Options of {@link ModelWorker.create}. */
export interface ModelWorkerOptions {
  /** intra-op threads of the worker's sessions [onnxruntime's default] */
  threads?: number;
  /** run at a lower OS priority, so a server's request thread wins the CPU over an analysis [false] */
  background?: boolean;
}

/** Options of one job. */
export interface JobOptions {
  onProgress?: (value: unknown) => void;
  /** aborting cancels the job (the worker sees it between its awaits) */
  signal?: AbortSignal;
}

interface Pending {
  resolve(r: unknown): void;
  reject(e: Error): void;
  onProgress?: (value: unknown) => void;
}

/** A worker thread running analysis jobs one after another. */
export class ModelWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextJob = 1;
  #dead: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** Starts the worker and waits until it is ready. */
  static async create(options: ModelWorkerOptions = {}): Promise<ModelWorker> {
    const worker = spawnTypeScriptWorker(new URL('./model.worker.ts', import.meta.url), { threads: options.threads, background: options.background });
    const handle = new ModelWorker(worker);
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: WorkerReply) => (m.type === 'ready' ? resolve() : handle.#onReply(m)));
      worker.on('error', (e) => {
        reject(e);
        handle.#die(e);
      });
      worker.on('exit', (code) => {
        const e = new Error(`model worker exited with code ${code}`);
        reject(e);
        handle.#die(e);
      });
    });
    return handle;
  }

  #onReply(m: WorkerReply): void {
    if (m.type === 'ready') return;
    const job = this.#pending.get(m.jobId);
    if (!job) return;
    if (m.type === 'progress') return job.onProgress?.(m.value);
    this.#pending.delete(m.jobId);
    if (m.type === 'done') job.resolve(m.result);
    else job.reject(new ModelJobError(m.error));
  }

  /** Calls `listener` once when the worker thread ends (crash, exit or release). */
  onExit(listener: () => void): void {
    if (this.#dead) listener();
    else this.#worker.once('exit', listener);
  }

  #die(e: Error): void {
    this.#dead ??= e;
    for (const job of this.#pending.values()) job.reject(e);
    this.#pending.clear();
  }

  /**
   * Runs `exportName` of the module at `module` in the worker:
   * `await fn(input, context)`; resolves with its result.
   */
  run<O = unknown>(module: URL | string, exportName: string, input: unknown, options: JobOptions = {}): Promise<O> {
    if (this.#dead) return Promise.reject(this.#dead);
    const href = typeof module === 'string' ? new URL(module).href : module.href;
    const jobId = this.#nextJob++;
    return new Promise<O>((resolve, reject) => {
      this.#pending.set(jobId, { resolve: resolve as (r: unknown) => void, reject, onProgress: options.onProgress });
      const cancel = () => this.#worker.postMessage({ type: 'cancel', jobId } satisfies WorkerRequest);
      if (options.signal?.aborted) cancel();
      options.signal?.addEventListener('abort', cancel, { once: true });
      this.#worker.postMessage({ type: 'job', jobId, module: href, exportName, input } satisfies WorkerRequest);
    });
  }

  /** Stops the worker; pending jobs are rejected. */
  async release(): Promise<void> {
    this.#die(new Error('model worker released'));
    await this.#worker.terminate();
  }
}
