/**
 * Main-thread handle on the characterization worker thread: queues jobs,
 * forwards progress, and restarts the thread if it dies.
 */
import type { Worker } from 'node:worker_threads';
import { spawnTypeScriptWorker } from '../workers/spawn-worker.js';
import type { CharacterizationResult, CharacterizeOptions, CharacterizeProgress } from './characterize.js';
import type { CancelJob, CharacterizeJob, WorkerReply } from './protocol.js';

/** An error raised inside the worker, carried across the thread boundary with its name and code. */
export class WorkerJobError extends Error {
  readonly code: string | undefined;
  constructor(name: string, message: string, code?: string) {
    super(message);
    this.name = name;
    this.code = code;
  }
}

interface Pending {
  resolve(r: CharacterizationResult): void;
  reject(e: Error): void;
  onProgress?: (p: CharacterizeProgress) => void;
}

export class CharacterizationWorker {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private nextJobId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly options: { threads?: number; background?: boolean }) {}

  /**
   * Starts the worker thread (its solver with `threads` intra-op threads [2], at a lower OS priority
   * when `background`, so a server's requests win the CPU) and waits until the solver is ready.
   */
  static async create(options: { threads?: number; background?: boolean } = {}): Promise<CharacterizationWorker> {
    const handle = new CharacterizationWorker(options);
    await handle.ensureStarted();
    return handle;
  }

  private ensureStarted(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = spawnTypeScriptWorker(new URL('./characterize.worker.ts', import.meta.url), { ...this.options });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: WorkerReply | { type: 'ready' }) => {
        if (m.type === 'ready') return resolve();
        const job = this.pending.get(m.jobId);
        if (!job) return;
        if (m.type === 'progress') job.onProgress?.(m.progress);
        else {
          this.pending.delete(m.jobId);
          if (m.type === 'done') job.resolve(m.result);
          else job.reject(new WorkerJobError(m.error.name, m.error.message, m.error.code));
        }
      });
      const die = (err: Error) => {
        reject(err);
        for (const job of this.pending.values()) job.reject(err);
        this.pending.clear();
        this.worker = undefined;
        this.ready = undefined;
      };
      worker.on('error', die);
      worker.on('exit', (code) => {
        if (this.worker === worker) die(new Error(`characterization worker exited with code ${code}`));
      });
    });
    return this.ready;
  }

  /** Runs one characterization in the worker; jobs run one after another. */
  async run(
    dirs: { base: string; sft: string; rl: string },
    options: CharacterizeOptions,
    onProgress?: (p: CharacterizeProgress) => void,
    signal?: AbortSignal,
  ): Promise<CharacterizationResult> {
    await this.ensureStarted();
    const jobId = this.nextJobId++;
    const job: CharacterizeJob = { type: 'characterize', jobId, dirs, options };
    return new Promise((resolve, reject) => {
      this.pending.set(jobId, { resolve, reject, onProgress });
      this.worker!.postMessage(job);
      // the worker checks between tensors, so a cancelled job stops within one tensor's time
      signal?.addEventListener('abort', () => this.worker?.postMessage({ type: 'cancel', jobId } satisfies CancelJob), { once: true });
    });
  }

  /** Stops the thread; pending jobs are rejected. */
  async release(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    for (const job of this.pending.values()) job.reject(new Error('characterization worker released'));
    this.pending.clear();
    if (worker) await worker.terminate();
  }
}
