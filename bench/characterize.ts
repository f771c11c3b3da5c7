/**
 * Characterization benchmark. Prints one JSON object:
 * - `svd`: full-spectrum time per size (1024x4096, 3584x3584, 3584x18944
 *   random float32) with same-run matmul baselines (bench/characterize-svd.ts);
 * - `energy`: throughput of the energy metrics (read three BF16 checkpoints
 *   tensor by tensor, convert to float32, form both deltas, their norms and
 *   W_IN's) next to the plain read throughput of the same files, same run.
 *
 *   npx tsx bench/characterize.ts [--energy-mb 768] [--skip-svd] [--sizes 1024x4096,...]
 */
import { open, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { Checkpoint, writeSafetensors } from '../src/engine/checkpoint/index.js';
import { readDeltas } from '../src/engine/characterize/characterize.js';
import { SeededRandom } from '../src/engine/linalg/seeded-random.js';
import { benchSvd } from './characterize-svd.js';

const { values: args } = parseArgs({
  options: {
    'energy-mb': { type: 'string', default: '768' },
    'skip-svd': { type: 'boolean', default: false },
    sizes: { type: 'string', default: '1024x4096,3584x3584,3584x18944' },
  },
});

const ROWS = 2048;
const COLS = 8192;

/** Writes base/sft/rl checkpoints of BF16 2048x8192 matrices totalling about `totalMb`. */
async function writeTrio(dir: string, totalMb: number): Promise<string[]> {
  const perTensorMb = (ROWS * COLS * 2) / 2 ** 20;
  const count = Math.max(1, Math.round(totalMb / 3 / perTensorMb));
  const rng = new SeededRandom(7);
  const base = Array.from({ length: count }, () => Float32Array.from({ length: ROWS * COLS }, () => rng.uniform() - 0.5));
  const dirs: string[] = [];
  for (const [k, role] of ['base', 'sft', 'rl'].entries()) {
    const d = join(dir, role);
    dirs.push(d);
    await import('node:fs/promises').then((fs) => fs.mkdir(d, { recursive: true }));
    await import('node:fs/promises').then((fs) => fs.writeFile(join(d, 'config.json'), JSON.stringify({ model_type: 'bench', num_hidden_layers: count })));
    const tensors = base.map((w, i) => ({
      name: `model.layers.${i}.mlp.down_proj.weight`,
      dtype: 'BF16' as const,
      shape: [ROWS, COLS],
      data: k === 0 ? w : w.map((x, j) => x + k * 1e-2 * Math.sin(j + i)),
    }));
    await writeSafetensors(join(d, 'model.safetensors'), tensors);
  }
  return dirs;
}

async function plainRead(files: string[]): Promise<{ bytes: number; seconds: number }> {
  const buffer = Buffer.allocUnsafe(16 << 20);
  let bytes = 0;
  const t0 = performance.now();
  for (const file of files) {
    const handle = await open(file, 'r');
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        bytes += bytesRead;
      }
    } finally {
      await handle.close();
    }
  }
  return { bytes, seconds: (performance.now() - t0) / 1000 };
}

async function energyPass(dirs: string[]): Promise<{ bytes: number; seconds: number; checksum: number }> {
  const [base, sft, rl] = await Promise.all(dirs.map((d) => Checkpoint.open(d)));
  const trio = { base: base!, sft: sft!, rl: rl! };
  let checksum = 0;
  const t0 = performance.now();
  for (const name of trio.sft.tensors.keys()) {
    const d = await readDeltas(trio, name);
    const relSft = d.froSft / (d.inNorm + 1e-8);
    checksum += relSft + d.froRl + d.cross / (d.froSft * d.froRl || 1);
  }
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all([base, sft, rl].map((c) => c!.close()));
  let bytes = 0;
  for (const d of dirs) bytes += (await stat(join(d, 'model.safetensors'))).size;
  return { bytes, seconds, checksum };
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = { machine: { cpus: os.cpus().length, loadavg: os.loadavg() } };
  const dir = await mkdtemp(join(tmpdir(), 'frankenscope-bench-'));
  try {
    const dirs = await writeTrio(dir, Number(args['energy-mb']));
    const files = dirs.map((d) => join(d, 'model.safetensors'));
    await plainRead(files); // warm the page cache so both passes read from memory alike
    const read = await plainRead(files);
    const energy = await energyPass(dirs);
    const read2 = await plainRead(files);
    const readSeconds = Math.min(read.seconds, read2.seconds);
    out.energy = {
      files: files.length,
      bytes: energy.bytes,
      plainReadGBps: read.bytes / readSeconds / 1e9,
      energyMetricsGBps: energy.bytes / energy.seconds / 1e9,
      ratio: energy.bytes / energy.seconds / (read.bytes / readSeconds),
      note: 'BF16 2048x8192 tensors; energy = read + BF16->F32 + both deltas + three Frobenius norms + cosine',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (!args['skip-svd']) {
    const sizes = args.sizes.split(',').map((s) => s.split('x').map(Number) as [number, number]);
    out.svd = await benchSvd(sizes);
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

await main();
