/**
 * Worker-thread entry: runs characterizations off the main thread so the
 * server keeps answering while SVDs run. One spectral solver (and its ONNX
 * sessions) lives for the worker's whole life.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Checkpoint } from '../checkpoint/index.js';
import { SpectralSolver } from '../linalg/spectral-solver.js';
import { lowerThreadPriority } from '../workers/priority.js';
import { CancelledError, characterize } from './characterize.js';
import type { CharacterizeJob, WorkerReply, WorkerRequest } from './protocol.js';

const port = parentPort!;
const options = workerData as { threads?: number; background?: boolean };
// before the solver's sessions exist, so onnxruntime's own threads inherit the lower priority
if (options.background) lowerThreadPriority();
const solver = await SpectralSolver.create({ threads: options.threads ?? 2 });
let queue = Promise.resolve();
const cancellers = new Map<number, AbortController>();

function reply(message: WorkerReply): void {
  port.postMessage(message);
}

async function run(job: CharacterizeJob, signal: AbortSignal): Promise<void> {
  const opened: Checkpoint[] = [];
  try {
    if (signal.aborted) throw new CancelledError();
    const base = await Checkpoint.open(job.dirs.base);
    opened.push(base);
    const sft = await Checkpoint.open(job.dirs.sft);
    opened.push(sft);
    const rl = await Checkpoint.open(job.dirs.rl);
    opened.push(rl);
    const result = await characterize(
      { base, sft, rl },
      solver,
      job.options,
      (progress) => reply({ type: 'progress', jobId: job.jobId, progress }),
      signal,
    );
    reply({ type: 'done', jobId: job.jobId, result });
  } catch (err) {
    const e = err as Error & { code?: string };
    reply({ type: 'failed', jobId: job.jobId, error: { name: e.name, message: e.message, code: e.code } });
  } finally {
    cancellers.delete(job.jobId);
    await Promise.all(opened.map((c) => c.close()));
  }
}

port.on('message', (message: WorkerRequest) => {
  if (message.type === 'cancel') {
    cancellers.get(message.jobId)?.abort();
    return;
  }
  const controller = new AbortController();
  cancellers.set(message.jobId, controller);
  queue = queue.then(() => run(message, controller.signal));
});
port.postMessage({ type: 'ready' });
