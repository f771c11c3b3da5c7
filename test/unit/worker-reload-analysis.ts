/** A worker job for worker-reload.test.ts: the first logits of one fixed prompt. */
import type { JobContext } from '../../src/engine/runtime/job-protocol.js';

export async function firstLogits(input: { dir: string }, context: JobContext): Promise<number[]> {
  const runner = await context.openRunner(input.dir);
  const r = await runner.forward([{ inputIds: [1, 2, 3, 4] }]);
  return Array.from(r.logits.subarray(0, 8));
}
