/**
 * The generic job protocol of the model worker: the worker imports an
 * analysis module by URL and calls one of its exported functions
 * `(input, context) => result`. Inputs, progress and results cross the
 * thread boundary by structured clone.
 */
import type { SessionPool } from './ort-sessions.js';
import type { HookedRunner } from './runner.js';
import type { WeightSource } from './weights.js';

/** What an analysis function receives besides its input. */
export interface JobContext {
  /**
   * A runner over the checkpoint directory, opened once per worker and reused
   * by later jobs (do not release it).
   */
  openRunner(dir: string): Promise<HookedRunner>;
  /** A runner over any weight source (e.g. a lazily merged model), on the worker's shared sessions; release it when done. */
  createRunner(weights: WeightSource): Promise<HookedRunner>;
  /** the worker's sessions, shared by every runner */
  readonly pool: SessionPool;
  /** Sends a progress value (structured-cloneable) to the caller. */
  progress(value: unknown): void;
  /** aborted when the caller cancels the job */
  readonly signal: AbortSignal;
  /** Lets pending messages (a cancel) arrive, then throws the abort reason if the job was cancelled. */
  checkCancelled(): Promise<void>;
}

/** The shape of an exported analysis function. */
export type AnalysisFunction<I = unknown, O = unknown> = (input: I, context: JobContext) => Promise<O>;

/** Main thread -> worker. */
export type WorkerRequest =
  | { type: 'job'; jobId: number; module: string; exportName: string; input: unknown }
  | { type: 'cancel'; jobId: number };

/** An error carried across the thread boundary. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
}

/** Worker -> main thread. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'progress'; jobId: number; value: unknown }
  | { type: 'done'; jobId: number; result: unknown }
  | { type: 'failed'; jobId: number; error: SerializedError };
