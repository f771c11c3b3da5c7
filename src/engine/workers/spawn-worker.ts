import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running a TypeScript module (given by URL), under
 * tsx, vitest and plain node alike.
 */
export function spawnTypeScriptWorker(entry: URL, data: Record<string, unknown> = {}): Worker {
  return new Worker(new URL('./boot.mjs', import.meta.url), {
    workerData: { ...data, entry: entry.href },
  });
}
