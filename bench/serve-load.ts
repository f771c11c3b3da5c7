/**
 * Cached reads under load (hardening issue, item 5): 50 concurrent clients x
 * 20 reads of the README's cached `characterization` query, against
 * `{ __typename }` (the baseline, same run), on an idle server and while
 * another characterization computes. The server is the real entry point
 * (bin/frankenscope.js serve) in its own process, so the load tool does not
 * share its event loop. Prints JSON.
 *
 *   npx tsx bench/serve-load.ts [--connections 50] [--reads 20] [--rounds 1]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { runLoad, startServeProcess, type LoadFigures } from './serve-process.js';

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    reads: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '1' },
  },
});
const connections = Number(args.connections);
const amount = connections * Number(args.reads);
const rounds = Number(args.rounds);

export const CACHED_QUERY =
  '{ characterization(base: "demo/base", sft: "demo/sft", rl: "demo/rl") { status layers { index section region sft { relativeNorm } rl { relativeNorm effectiveRank } } } }';
const TYPENAME_QUERY = '{ __typename }';

const server = await startServeProcess();
try {
  // the first request computes the demo characterization; every later one is a cached read
  const first = await server.graphql(CACHED_QUERY.replace('rl: "demo/rl")', 'rl: "demo/rl", waitSeconds: 600)'));
  if (first.data?.characterization?.status !== 'DONE') throw new Error(`demo characterization did not finish: ${JSON.stringify(first)}`);
  const expected = {
    typename: await server.rawBody(TYPENAME_QUERY),
    cached: await server.rawBody(CACHED_QUERY),
  };
  const phase = async (): Promise<Record<string, LoadFigures | number>> => {
    const typename = await runLoad(server.url, TYPENAME_QUERY, expected.typename, connections, amount);
    const cached = await runLoad(server.url, CACHED_QUERY, expected.cached, connections, amount);
    return { typename, cached, ratio: round(cached.reqPerSec / typename.reqPerSec) };
  };
  const idle = [];
  for (let i = 0; i < rounds; i++) idle.push(await phase());
  const keeper = server.keepCharacterizing();
  const during = [];
  try {
    await keeper.started;
    for (let i = 0; i < rounds; i++) during.push(await phase());
  } finally {
    await keeper.stop();
  }
  process.stdout.write(
    JSON.stringify(
      {
        machine: { cpus: os.cpus().length, loadavg: os.loadavg().map(round) },
        load: { connections, readsPerClient: Number(args.reads), requests: amount },
        idle,
        duringAnalysis: { ...keeper.summary(), rounds: during },
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await server.close();
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
