/** Messages between the main thread and the characterization worker. */
import type { CharacterizationResult, CharacterizeOptions, CharacterizeProgress } from './characterize.js';

export interface CharacterizeJob {
  type: 'characterize';
  jobId: number;
  dirs: { base: string; sft: string; rl: string };
  options: CharacterizeOptions;
}

/** Asks the worker to stop a queued or running job between tensors. */
export interface CancelJob {
  type: 'cancel';
  jobId: number;
}

export type WorkerRequest = CharacterizeJob | CancelJob;

export type WorkerReply =
  | { type: 'progress'; jobId: number; progress: CharacterizeProgress }
  | { type: 'done'; jobId: number; result: CharacterizationResult }
  | { type: 'failed'; jobId: number; error: { name: string; message: string; code?: string } };
