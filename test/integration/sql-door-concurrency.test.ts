/**
 * The SQL door under concurrency (hardening issue, item 4): more concurrent
 * runaway door queries than the server has threadpool threads. Each must
 * answer SQL_TIMEOUT within its timeout + 1 s, counted from the request, and
 * the rest of the warehouse must keep answering meanwhile. The server is the
 * real entry point in its own process, so its threadpool size is the one
 * bin/frankenscope.js gives it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServeProcess, type ServeProcess } from '../../bench/serve-process.js';
import { DOOR_LIMITS } from '../../src/warehouse/SqlDoor.js';
import { SERVER_THREADPOOL_SIZE } from '../../src/threadpool.js';

const RUNAWAY = 'SELECT count(*) FROM range(100000000000)';

let server: ServeProcess;
beforeAll(async () => {
  server = await startServeProcess({ hidden: 0 });
}, 180_000);
afterAll(() => server?.close());

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await work();
  return { ms: performance.now() - t0, value };
}

describe('SQL door under concurrency', () => {
  it('answers SQL_TIMEOUT in time for more runaways than pool threads, and checkpoints keeps answering', async () => {
    const runaways = SERVER_THREADPOOL_SIZE + 4;
    let settled = 0;
    const door = Array.from({ length: runaways }, () =>
      timed(() => server.graphql(`{ sql(query: "${RUNAWAY}") { rows } }`)).finally(() => settled++),
    );
    const listings: number[] = [];
    while (settled < runaways) {
      const { ms, value } = await timed(() => server.graphql('{ checkpoints { id } }'));
      expect(value.errors).toBeUndefined();
      listings.push(ms);
      await new Promise((r) => setTimeout(r, 25));
    }
    const answers = await Promise.all(door);
    const codes = answers.map((a) => a.value.errors?.[0]?.extensions?.code);
    const slowest = Math.max(...answers.map((a) => a.ms));
    const sorted = [...listings].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const worstListing = sorted[sorted.length - 1]!;
    console.log(JSON.stringify({ runaways, codes: [...new Set(codes)], slowestDoorMs: Math.round(slowest), listings: listings.length, medianListingMs: Math.round(median), worstListingMs: Math.round(worstListing) }));
    expect(codes).toEqual(Array(runaways).fill('SQL_TIMEOUT'));
    // the line: every runaway answers within its timeout + 1 s
    expect(slowest).toBeLessThan(DOOR_LIMITS.defaultTimeoutMs + 1000);
    expect(listings.length).toBeGreaterThan(10);
    // The issue's < 100 ms for the listing, held by the median: on a loaded
    // 2-core CI machine single answers are late by scheduling alone (idle
    // ones too). A starved pool shows as a stall of seconds (4.9 s in the
    // issue, until a runaway's timeout), which the 1 s line on every answer catches.
    expect(median).toBeLessThan(100);
    expect(worstListing).toBeLessThan(1000);
    // and the door works again afterwards
    expect((await server.graphql('{ sql(query: "SELECT 42 AS answer") { rows } }')).data.sql.rows).toEqual([[42]]);
  }, 120_000);
});
