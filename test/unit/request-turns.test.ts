import { stat } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRequestTurns } from '../../src/http/request-turns.js';

const busyFor = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('request turns', () => {
  it('start requests in arrival order', async () => {
    const turns = createRequestTurns();
    const started: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map((i) => turns.next().then(() => started.push(i))));
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(turns.waiting).toBe(0);
  });

  it('let I/O callbacks run between two starts, so a burst cannot hold the event loop', async () => {
    const turns = createRequestTurns();
    let started = 0;
    const burst = Array.from({ length: 100 }, () =>
      turns.next().then(() => {
        started++;
        // a request's synchronous slice: long enough for the stat below to complete meanwhile
        busyFor(1);
      }),
    );
    const startedWhenIoRan = await new Promise<number>((resolve) => stat('.', () => resolve(started)));
    await Promise.all(burst);
    expect(started).toBe(100);
    // all 100 would have started before the poll phase if they were released in one turn
    expect(startedWhenIoRan).toBeLessThan(10);
    expect(turns.waiting).toBe(0);
  });

  it('release a request that asks after the queue drained', async () => {
    const turns = createRequestTurns();
    await turns.next();
    await new Promise((r) => setTimeout(r, 5));
    await expect(Promise.race([turns.next().then(() => 'started'), new Promise((r) => setTimeout(() => r('stuck'), 1000))])).resolves.toBe('started');
  });
});
