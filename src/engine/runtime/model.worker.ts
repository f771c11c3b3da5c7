/**
 * Worker-thread entry of {@link ModelWorker}: runs analysis jobs one after
 * another with one session pool (sessions reused across jobs) and one runner
 * per checkpoint directory.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { AnalysisFunction, JobContext, WorkerReply, WorkerRequest } from './job-protocol.js';
import { lowerThreadPriority } from '../workers/priority.js';
import { SessionPool } from './ort-sessions.js';
import { HookedRunner } from './runner.js';
import { CheckpointWeights } from './weights.js';

const port = parentPort!;
const options = workerData as { threads?: number; background?: boolean };
// before any session exists, so onnxruntime's own threads inherit the lower priority
if (options.background) lowerThreadPriority();
const pool = await SessionPool.create({ threads: options.threads });
interface CachedRunner {
  signature: string;
  weights: Promise<CheckpointWeights>;
  runner: Promise<HookedRunner>;
}

const runners = new Map<string, CachedRunner>();
/** Open runners kept at most (least recently used released first): each holds a model's weights. */
const MAX_OPEN_RUNNERS = 3;
const cancels = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

function post(m: WorkerReply): void {
  port.postMessage(m);
}

/** Size and mtime of every file of a checkpoint directory: a cached runner is reused only while these hold. */
async function dirSignature(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.safetensors') || n.endsWith('.json')).sort();
  const parts = await Promise.all(names.map(async (n) => {
    const st = await stat(join(dir, n));
    return `${n}:${st.size}:${st.mtimeMs}`;
  }));
  return parts.join('|');
}

async function evict(dir: string, entry: CachedRunner): Promise<void> {
  if (runners.get(dir) === entry) runners.delete(dir);
  await entry.runner.then((r) => r.release(), () => undefined);
  await entry.weights.then((w) => w.close(), () => undefined);
}

async function openRunner(dir: string): Promise<HookedRunner> {
  const signature = await dirSignature(dir);
  const cached = runners.get(dir);
  if (cached && cached.signature === signature) {
    // re-insert: Map order is the recency order
    runners.delete(dir);
    runners.set(dir, cached);
    return cached.runner;
  }
  // the files changed since this runner read them: never serve stale weights
  if (cached) await evict(dir, cached);
  while (runners.size >= MAX_OPEN_RUNNERS) {
    const [oldest, entry] = runners.entries().next().value as [string, CachedRunner];
    await evict(oldest, entry);
  }
  const weights = CheckpointWeights.open(dir);
  const runner = weights.then((w) => HookedRunner.create({ weights: w, pool }));
  const entry: CachedRunner = { signature, weights, runner };
  runners.set(dir, entry);
  runner.catch(() => evict(dir, entry));
  return runner;
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
