/**
 * Latency of a `checkpoints` query while a characterization computes in the
 * worker thread, next to the same query's latency on an idle server (the
 * baseline, same run). Prints JSON.
 *
 *   npx tsx bench/responsiveness.ts [--hidden 512] [--layers 12]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { writePlantedTrio } from '../src/engine/fixtures/index.js';
import { startServer } from '../src/server.js';

const { values: args } = parseArgs({ options: { hidden: { type: 'string', default: '512' }, layers: { type: 'string', default: '12' } } });

async function query(url: string, q: string): Promise<{ ms: number; body: any }> {
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
  const body = await res.json();
  return { ms: performance.now() - t0, body };
}

function summary(xs: number[]): { n: number; medianMs: number; maxMs: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, medianMs: s[Math.floor(s.length / 2)] ?? NaN, maxMs: s[s.length - 1] ?? NaN };
}

const dir = await mkdtemp(join(tmpdir(), 'frankenscope-resp-'));
try {
  const hidden = Number(args.hidden);
  await writePlantedTrio(join(dir, 'm'), { dtype: 'BF16', hidden, intermediate: hidden * 4, numLayers: Number(args.layers) });
  const server = await startServer({ ...loadConfig({}), port: 0, warehousePath: join(dir, 'w.duckdb'), modelRoots: [join(dir, 'm')], demoDir: join(dir, 'm') });
  try {
    const list = '{ checkpoints { id fingerprint } }';
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) idle.push((await query(server.url, list)).ms);
    const start = await query(server.url, '{ characterization(base: "demo/base", sft: "demo/sft", rl: "demo/rl", waitSeconds: 0) { run { id } } }');
    const runId = start.body.data.characterization.run.id;
    const busy: number[] = [];
    const t0 = performance.now();
    for (;;) {
      const r = await query(server.url, `{ checkpoints { id fingerprint } run(id: "${runId}") { status } }`);
      if (r.body.data.run.status !== 'RUNNING') break;
      busy.push(r.ms);
      await new Promise((res) => setTimeout(res, 100));
    }
    process.stdout.write(JSON.stringify({
      machine: { cpus: os.cpus().length, loadavg: os.loadavg() },
      trio: { hidden, layers: Number(args.layers), dtype: 'BF16' },
      characterizationSeconds: (performance.now() - t0) / 1000,
      idle: summary(idle),
      duringCharacterization: summary(busy),
    }, null, 2) + '\n');
  } finally {
    await server.close();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
