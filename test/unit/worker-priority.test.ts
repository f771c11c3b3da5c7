/** A server's analyses yield the CPU: their worker threads run at a lower priority than the request thread. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelWorker } from '../../src/engine/runtime/model-worker.js';
import { BACKGROUND_NICENESS } from '../../src/engine/workers/priority.js';

/** Niceness of every thread of this process (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNiceness(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

describe('analysis worker priority', () => {
  it('a background worker lowers its own threads only', async () => {
    const before = threadNiceness();
    const worker = await ModelWorker.create({ threads: 1, background: true });
    try {
      const after = threadNiceness();
      const added = [...after].filter(([tid]) => !before.has(tid));
      expect(added.some(([, nice]) => nice === BACKGROUND_NICENESS)).toBe(true);
      expect(after.get(process.pid)).toBe(0);
    } finally {
      await worker.release();
    }
  });

  it('a worker started without it keeps the normal priority', async () => {
    const before = threadNiceness();
    const worker = await ModelWorker.create({ threads: 1 });
    try {
      const added = [...threadNiceness()].filter(([tid]) => !before.has(tid));
      expect(added.length).toBeGreaterThan(0);
      expect(added.every(([, nice]) => nice === 0)).toBe(true);
    } finally {
      await worker.release();
    }
  });
});
