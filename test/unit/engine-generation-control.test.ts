/**
 * A long generation can be cancelled between decode steps and reports each
 * step: a budget of 1024 tokens must not hold a cancel until the batch ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionPool } from '../../src/engine/runtime/ort-sessions.js';
import { testPool, textIds, tinySetup } from './engine-fixtures.js';

let pool: SessionPool;
beforeAll(async () => {
  pool = await testPool();
});
afterAll(async () => {
  await pool.release();
});

describe('generation control', () => {
  it('onStep sees every step 1..n of a generation without end-of-text', async () => {
    const { model, runner } = await tinySetup(pool, { seed: 41, numLayers: 2 });
    const steps: number[] = [];
    const r = await runner.generate([{ inputIds: textIds(model, 5, 1) }], { maxNewTokens: 7, eosTokenIds: [], onStep: (step, max) => steps.push(step * 100 + max) });
    expect(r.tokens[0]).toHaveLength(7);
    expect(steps).toEqual([107, 207, 307, 407, 507, 607, 707]);
  });

  it('an abort during the generation stops it at the next step, with the abort reason', async () => {
    const { model, runner } = await tinySetup(pool, { seed: 42, numLayers: 2 });
    const controller = new AbortController();
    let last = 0;
    const generation = runner.generate([{ inputIds: textIds(model, 5, 2) }, { inputIds: textIds(model, 3, 3) }], {
      maxNewTokens: 100_000,
      eosTokenIds: [],
      signal: controller.signal,
      onStep: (step) => {
        last = step;
        if (step === 20) controller.abort(Object.assign(new Error('stop here'), { name: 'AbortError' }));
      },
    });
    await expect(generation).rejects.toMatchObject({ name: 'AbortError', message: 'stop here' });
    // step 20 was the last one computed: no decode step runs after the abort
    expect(last).toBe(20);
  });

  it('a signal aborted before the run ends it after the first token', async () => {
    const { model, runner } = await tinySetup(pool, { seed: 43, numLayers: 2 });
    const controller = new AbortController();
    controller.abort(new Error('already'));
    let steps = 0;
    await expect(runner.generate([{ inputIds: textIds(model, 4, 4) }], { maxNewTokens: 50, eosTokenIds: [], signal: controller.signal, onStep: () => steps++ })).rejects.toThrow('already');
    expect(steps).toBe(1);
  });
});
