/**
 * The SQL door under concurrency (hardening issue, item 4): `{ checkpoints }`
 * latency on an idle server (the baseline, same run) and while N runaway
 * door queries (default: threadpool size + 4) run, and how long each
 * runaway takes to answer and with what code. Prints JSON.
 *
 *   npx tsx bench/door-runaways.ts [--runaways 20]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { SERVER_THREADPOOL_SIZE } from '../src/threadpool.js';
import { startServeProcess } from './serve-process.js';

const { values: args } = parseArgs({ options: { runaways: { type: 'string', default: String(SERVER_THREADPOOL_SIZE + 4) } } });
const runaways = Number(args.runaways);
const RUNAWAY = 'SELECT count(*) FROM range(100000000000)';

function summary(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN);
  return { n: s.length, p50Ms: at(0.5), p90Ms: at(0.9), maxMs: Math.round(s[s.length - 1] ?? NaN) };
}

const server = await startServeProcess({ hidden: 0 });
try {
  const listing = async () => {
    const t0 = performance.now();
    const r = await server.graphql('{ checkpoints { id } }');
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return performance.now() - t0;
  };
  const idle: number[] = [];
  for (let i = 0; i < 40; i++) {
    idle.push(await listing());
    await new Promise((r) => setTimeout(r, 25));
  }
  let settled = 0;
  const door = Array.from({ length: runaways }, async () => {
    const t0 = performance.now();
    const r = await server.graphql(`{ sql(query: "${RUNAWAY}") { rows } }`);
    settled++;
    return { ms: performance.now() - t0, code: r.errors?.[0]?.extensions?.code ?? 'OK' };
  });
  const busy: number[] = [];
  // bounded, so a door query that never ends cannot hang the bench
  const t0 = performance.now();
  while (settled < runaways && performance.now() - t0 < 120_000) {
    busy.push(await listing());
    await new Promise((r) => setTimeout(r, 25));
  }
  const answers = await Promise.all(door);
  const codes: Record<string, number> = {};
  for (const a of answers) codes[a.code] = (codes[a.code] ?? 0) + 1;
  process.stdout.write(
    JSON.stringify(
      {
        machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100) },
        runaways,
        codes,
        doorAnswerMs: summary(answers.map((a) => a.ms)),
        checkpointsIdle: summary(idle),
        checkpointsDuringRunaways: summary(busy),
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await server.close();
}
