/** `frankenscope worker`: computes queued work units until stopped (docs/scaling.md). */
import type { AppConfig } from '../config.js';
import { PACKAGE_ROOT } from '../config.js';
import { parseRedisUrl, safeRedisUrl } from '../queue/redis-url.js';
import { startUnitWorker } from '../queue/unit-worker.js';

export interface WorkerCliOptions {
  redis?: string;
  name?: string;
  concurrency?: number;
  threads?: number;
  lockMs?: number;
  stalledMs?: number;
  quiet?: boolean;
}

export async function workerCommand(config: AppConfig, opts: WorkerCliOptions): Promise<void> {
  const redisUrl = opts.redis ?? config.redisUrl;
  if (!redisUrl) throw new Error('no queue to work for: give --redis redis://host:port or set FRANKENSCOPE_REDIS_URL');
  parseRedisUrl(redisUrl);
  // BullMQ waits for Redis without a word; say what it waits for
  console.log(`frankenscope worker: connecting to ${safeRedisUrl(redisUrl)}`);
  const worker = await startUnitWorker({
    redisUrl,
    packageRoot: PACKAGE_ROOT,
    modelRoots: config.modelRoots,
    name: opts.name,
    concurrency: opts.concurrency,
    threads: opts.threads ?? config.engineThreads,
    lockDurationMs: opts.lockMs,
    stalledIntervalMs: opts.stalledMs,
    log: opts.quiet ? undefined : (line) => console.log(`[${new Date().toISOString()}] ${line}`),
  });
  console.log(
    `frankenscope worker ${worker.name}: taking units from ${safeRedisUrl(redisUrl)} ` +
      `(concurrency ${opts.concurrency ?? 1}, model roots ${config.modelRoots.join(':')})`,
  );
  const stop = async () => {
    // BullMQ's close lets the units in hand finish; a second signal ends at once
    process.once('SIGINT', () => process.exit(130));
    process.once('SIGTERM', () => process.exit(143));
    await worker.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
