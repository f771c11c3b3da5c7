/** A finished run's message says what was done, not the last progress step (hardening issue, item 7). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, registerPlantedTrio, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ numLayers: 2 });
  await registerPlantedTrio(t);
});
afterAll(() => t?.close());

describe('a DONE run', () => {
  it('keeps a final message naming what was done', async () => {
    const r = await t.execute<any>(
      '{ characterization(base: "planted/base", sft: "planted/sft", rl: "planted/rl", waitSeconds: 120) { status run { status message } } }',
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.characterization.run.status).toBe('DONE');
    expect(r.data.characterization.run.message).toMatch(/^done: characterized \d+ tensors in \d+ layers$/);
    // read again: served from memory, the same answer
    const again = await t.execute<any>('{ characterization(base: "planted/base", sft: "planted/sft", rl: "planted/rl") { run { message } } }');
    expect(again.data.characterization.run.message).toBe(r.data.characterization.run.message);
  });
});
