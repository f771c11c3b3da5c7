/**
 * Worker-thread entry of {@link ModelWorker}: runs analysis jobs one after
 * another with one session pool (sessions reused across jobs) and one runner
 * per checkpoint directory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AnalysisFunction, JobContext, WorkerReply, WorkerRequest } from './job-protocol.js';
import { SessionPool } from './ort-sessions.js';
import { HookedRunner } from './runner.js';
import { CheckpointWeights } from './weights.js';

const port = parentPort!;
const pool = await SessionPool.create({ threads: (workerData as { threads?: number }).threads });
const runners = new Map<string, Promise<HookedRunner>>();
const cancels = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

function post(m: WorkerReply): void {
  port.postMessage(m);
}

function openRunner(dir: string): Promise<HookedRunner> {
  let r = runners.get(dir);
  if (!r) {
    r = CheckpointWeights.open(dir).then((weights) => HookedRunner.create({ weights, pool }));
    runners.set(dir, r);
    r.catch(() => runners.delete(dir));
  }
  return r;
}

async function runJob(m: Extract<WorkerRequest, { type: 'job' }>): Promise<void> {
  const controller = cancels.get(m.jobId)!;
  try {
    const mod = (await import(m.module)) as Record<string, unknown>;
    const fn = mod[m.exportName];
    if (typeof fn !== 'function') throw new TypeError(`'exportName' ${JSON.stringify(m.exportName)} is not a function exported by ${m.module}`);
    const context: JobContext = {
      openRunner,
      createRunner: (weights) => HookedRunner.create({ weights, pool }),
      pool,
      progress: (value) => post({ type: 'progress', jobId: m.jobId, value }),
      signal: controller.signal,
      checkCancelled: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        controller.signal.throwIfAborted();
      },
    };
    controller.signal.throwIfAborted();
    const result = await (fn as AnalysisFunction)(m.input, context);
    post({ type: 'done', jobId: m.jobId, result });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ type: 'failed', jobId: m.jobId, error: { name: err.name, message: err.message, code: (err as { code?: unknown }).code as string | undefined } });
  } finally {
    cancels.delete(m.jobId);
  }
}

port.on('message', (m: WorkerRequest) => {
  if (m.type === 'cancel') {
    cancels.get(m.jobId)?.abort(Object.assign(new Error(`job ${m.jobId} was cancelled`), { name: 'AbortError' }));
    return;
  }
  cancels.set(m.jobId, new AbortController());
  queue = queue.then(() => runJob(m));
});
post({ type: 'ready' });
