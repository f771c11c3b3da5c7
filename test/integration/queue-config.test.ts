/** The queue's configuration: FRANKENSCOPE_REDIS_URL, a server whose Redis never answers, the test helper's install hint. */
import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { QueueUnavailable } from '../../src/services/units/queue-unavailable.js';
import { freePort, requireRedisServer } from '../helpers/redis.js';
import { testPlanSpec } from '../helpers/units/test-plan.js';

describe('queue configuration', () => {
  it('FRANKENSCOPE_REDIS_URL is read, and a value that is no Redis URL is refused by name', () => {
    expect(loadConfig({}).redisUrl).toBeNull();
    expect(loadConfig({ FRANKENSCOPE_REDIS_URL: 'redis://:secret@10.0.0.5:6379/2' }).redisUrl).toBe('redis://:secret@10.0.0.5:6379/2');
    expect(() => loadConfig({ FRANKENSCOPE_REDIS_URL: 'localhost:6379' })).toThrow("FRANKENSCOPE_REDIS_URL must look like redis://host:port, got 'localhost:6379'");
  });

  it('a server whose Redis never answers starts, refuses runs cut into units with QueueUnavailable, computes whole-piece runs, and closes', async () => {
    const port = await freePort();
    const config = { ...loadConfig({ FRANKENSCOPE_WAREHOUSE: ':memory:', FRANKENSCOPE_REDIS_URL: `redis://127.0.0.1:${port}` }), demoDir: '/nonexistent', demoProbesDir: '/nonexistent' };
    const app = await createApp(config);
    try {
      const refusal = await app.services.runs.startOrJoin(testPlanSpec({ units: 1 })).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(QueueUnavailable);
      expect((refusal as Error).message).toContain(`the work queue at redis://127.0.0.1:${port} is unavailable`);
      expect(await app.services.warehouse.listRuns()).toEqual([]);
      // runs computed in one piece never touch the queue: they still compute in process
      const whole = await app.services.runs.startOrJoin({
        kind: 'whole-piece',
        params: {},
        inputs: [],
        compute: async () => ({ layerEffects: [] }),
        store: (warehouse, runId, rows) => warehouse.completeAnalysisRun(runId, rows),
      });
      await whole.settled;
      expect((await app.services.warehouse.getRuns([whole.runId]))[0]?.status).toBe('DONE');
    } finally {
      await app.close();
    }
  });

  it('without redis-server on the PATH the tests fail with the command that installs it', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => requireRedisServer()).toThrow('apt-get install -y redis-server');
    } finally {
      process.env.PATH = path;
    }
  });
});
