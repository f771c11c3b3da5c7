/**
 * What every queue test file sets up: a temporary folder, a redis-server of
 * its own on a free loopback port, and the child processes its tests start,
 * made before the file's tests and ended after them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startRedis, type TestRedis } from './redis.js';
import type { Child } from './units/processes.js';

export interface QueueSandbox {
  /** the temporary folder (valid inside the file's tests and hooks) */
  readonly dir: string;
  readonly redis: TestRedis;
  /** every process adopted so far */
  readonly children: readonly Child[];
  /** ends these processes after the file's tests; returns them */
  adopt<T extends Child>(...children: T[]): T[];
}

/** Registers the file's beforeAll/afterAll; `endWith` is the signal the children get at the end. */
export function useQueueSandbox(prefix: string, endWith: NodeJS.Signals = 'SIGTERM'): QueueSandbox {
  let dir: string | undefined;
  let redis: TestRedis | undefined;
  const children: Child[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    redis = await startRedis();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill(endWith)));
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      if (!dir) throw new Error('the queue sandbox is made in beforeAll');
      return dir;
    },
    get redis() {
      if (!redis) throw new Error('the queue sandbox is made in beforeAll');
      return redis;
    },
    children,
    adopt: (...adopted) => {
      children.push(...adopted);
      return adopted;
    },
  };
}
