/**
 * SVD half of the characterize benchmark: full singular spectra of random
 * float32 matrices with SpectralSolver, with baselines from the same run
 * (the float64 Gram product alone and its GFLOP/s, a square float64 product).
 *
 *   npx tsx bench/characterize-svd.ts [--sizes 1024x4096,3584x3584] [--vectors 64] [--threads 2]
 *
 * Prints one JSON object on stdout.
 */
import { pathToFileURL } from 'node:url';
import { MatmulKernels } from '../src/engine/ort/matmul-kernels.js';
import { SeededRandom } from '../src/engine/linalg/seeded-random.js';
import { SpectralSolver } from '../src/engine/linalg/spectral-solver.js';

/** One measured size. */
export interface SvdBenchRow {
  rows: number;
  cols: number;
  /** wall time of spectrum(), values only */
  seconds: number;
  /** wall time of the float64 Gram product alone, and its rate */
  gramSeconds: number;
  gramGflops: number;
  /** wall time of spectrum() with leading left vectors, when asked */
  secondsWithVectors?: number;
  vectors?: number;
  /** |sum s_i^2 - ||A||_F^2| / ||A||_F^2: a cheap end-to-end check */
  energyRelError: number;
  topValues: number[];
}

/** Whole benchmark output. */
export interface SvdBenchResult {
  threads: number | null;
  /** float64 2048^3 product (Gram of a 2048x2048 matrix): machine baseline */
  baselineF64Gflops: number;
  sizes: SvdBenchRow[];
}

function randomMatrix(rows: number, cols: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  const a = new Float32Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform() - 0.5;
  return a;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, (performance.now() - t0) / 1000];
}

/** Runs the benchmark for the given shapes. */
export async function benchSvd(
  sizes: Array<[number, number]>,
  options: { vectors?: number; threads?: number } = {},
): Promise<SvdBenchResult> {
  const kernels = await MatmulKernels.create({ threads: options.threads });
  const solver = await SpectralSolver.create({ threads: options.threads });
  try {
    const base = randomMatrix(2048, 2048, 1);
    await kernels.gram(base, 2048, 2048, 'rows');
    const [, baseSeconds] = await timed(() => kernels.gram(base, 2048, 2048, 'rows'));
    const rowsOut: SvdBenchRow[] = [];
    for (const [rows, cols] of sizes) {
      const a = randomMatrix(rows, cols, rows * 31 + cols);
      const m = Math.min(rows, cols);
      const [, gramSeconds] = await timed(() => kernels.gram(a, rows, cols, rows <= cols ? 'rows' : 'cols'));
      const [spec, seconds] = await timed(() => solver.spectrum(a, rows, cols));
      let fro = 0;
      for (let i = 0; i < a.length; i++) fro += a[i] * a[i];
      const energy = spec.values.reduce((s, v) => s + v * v, 0);
      const row: SvdBenchRow = {
        rows,
        cols,
        seconds,
        gramSeconds,
        gramGflops: (2 * m * m * Math.max(rows, cols)) / gramSeconds / 1e9,
        energyRelError: Math.abs(energy - fro) / fro,
        topValues: Array.from(spec.values.subarray(0, 3)),
      };
      if (options.vectors) {
        const k = options.vectors;
        const [, withVectors] = await timed(() => solver.spectrum(a, rows, cols, { leftVectors: k }));
        row.secondsWithVectors = withVectors;
        row.vectors = k;
      }
      rowsOut.push(row);
    }
    return {
      threads: options.threads ?? null,
      baselineF64Gflops: (2 * 2048 ** 3) / baseSeconds / 1e9,
      sizes: rowsOut,
    };
  } finally {
    await solver.release();
    await kernels.release();
  }
}

function parseArgs(argv: string[]): { sizes: Array<[number, number]>; vectors: number; threads?: number } {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const sizes = (get('--sizes') ?? '1024x4096,3584x3584,3584x18944').split(',').map((s) => {
    const [r, c] = s.split('x').map(Number);
    if (!Number.isInteger(r) || !Number.isInteger(c) || r < 1 || c < 1) throw new RangeError(`'--sizes' entry '${s}' is not ROWSxCOLS`);
    return [r, c] as [number, number];
  });
  const threads = get('--threads');
  return { sizes, vectors: Number(get('--vectors') ?? 64), threads: threads === undefined ? undefined : Number(threads) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = parseArgs(process.argv.slice(2));
  const result = await benchSvd(args.sizes, { vectors: args.vectors, threads: args.threads });
  console.log(JSON.stringify(result, null, 2));
}
