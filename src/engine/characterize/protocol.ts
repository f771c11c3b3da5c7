/** Messages between the main thread and the characterization worker. */
import type { CharacterizationResult, CharacterizeOptions, CharacterizeProgress } from './characterize.js';

export interface CharacterizeJob {
  type: 'characterize';
  jobId: number;
  dirs: { base: string; sft: string; rl: string };
  options: CharacterizeOptions;
}

export type WorkerReply =
  | { type: 'progress'; jobId: number; progress: CharacterizeProgress }
  | { type: 'done'; jobId: number; result: CharacterizationResult }
  | { type: 'failed'; jobId: number; error: { name: string; message: string; code?: string } };
