/**
 * A deterministic work unit for the queue tests: numbers computed from the
 * input alone, with switches to sleep (cancellable), fail always (a poison
 * unit) or note each execution in a log file (to count executions per unit).
 */
import { appendFileSync } from 'node:fs';
import type { JobContext } from '../../../src/engine/runtime/job-protocol.js';

export interface TestUnitInput {
  index: number;
  /** values in the result */
  size: number;
  /** ms to sleep before answering, in small cancellable steps */
  sleepMs?: number;
  /** always throw this message (a poison unit) */
  failWith?: string;
  /** a file that gets 'start <index> <pid>' and 'done <index> <pid>' lines */
  logFile?: string;
}

/** Float64 values with awkward bits (NaN, -0, tiny and huge numbers), a pure function of the index and size. */
export function expectedValues(index: number, size: number): Float64Array {
  const values = new Float64Array(size);
  for (let i = 0; i < size; i++) values[i] = Math.sin(index * 1000 + i) * 10 ** ((i % 7) - 3) + 1 / (i + index + 1);
  if (size > 2) {
    values[0] = index % 2 === 0 ? Number.NaN : -0;
    values[1] = Number.MIN_VALUE * (index + 1);
  }
  return values;
}

export async function testUnit(input: TestUnitInput, context: JobContext): Promise<{ index: number; values: Float64Array }> {
  if (input.logFile) appendFileSync(input.logFile, `start ${input.index} ${process.pid}\n`);
  const steps = Math.ceil((input.sleepMs ?? 0) / 20);
  for (let step = 0; step < steps; step++) {
    await new Promise((r) => setTimeout(r, 20));
    await context.checkCancelled();
    context.progress({ done: step + 1, total: steps });
  }
  if (input.failWith) throw new Error(input.failWith);
  if (input.logFile) appendFileSync(input.logFile, `done ${input.index} ${process.pid}\n`);
  return { index: input.index, values: expectedValues(input.index, input.size) };
}
