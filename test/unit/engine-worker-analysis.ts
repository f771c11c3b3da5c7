/** A small analysis module for the model-worker tests (imported by URL inside the worker). */
import type { JobContext } from '../../src/engine/runtime/job-protocol.js';

/** Last-position logits of each prompt, one prompt per step, with progress. */
export async function lastLogits(input: { dir: string; prompts: number[][] }, ctx: JobContext): Promise<{ logits: Float32Array[]; sessionsCreated: number }> {
  const runner = await ctx.openRunner(input.dir);
  const logits: Float32Array[] = [];
  for (const [i, ids] of input.prompts.entries()) {
    await ctx.checkCancelled();
    logits.push((await runner.forward([{ inputIds: ids }])).logits);
    ctx.progress({ done: i + 1, total: input.prompts.length });
  }
  return { logits, sessionsCreated: ctx.pool.createdCount };
}

/** Runs until cancelled (gives up after 1000 rounds so a broken cancel cannot run away). */
export async function spin(_input: unknown, ctx: JobContext): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    ctx.progress(i);
    await ctx.checkCancelled();
  }
  return 'never cancelled';
}

/** Always fails with a coded error. */
export async function fail(): Promise<never> {
  throw Object.assign(new RangeError("'x' is wrong"), { code: 'BAD_X' });
}

/** The worker's weight-memory budget and what its cache holds after one forward pass of `dir`. */
export async function weightBudget(input: { dir: string }, ctx: JobContext): Promise<{ maxBytes: number; bytes: number }> {
  const { sharedWeightCache } = await import('../../src/engine/runtime/weight-cache.js');
  const runner = await ctx.openRunner(input.dir);
  await runner.forward([{ inputIds: [1, 2, 3] }]);
  const cache = sharedWeightCache();
  return { maxBytes: cache.maxBytes, bytes: cache.bytes };
}
