/**
 * SVD half of the characterize benchmark: full singular spectra of random
 * float32 matrices with SpectralSolver (values only, and with the leading
 * left vectors a characterization asks for), with baselines from the same
 * run: square float64 and float32 MatMul rates, and the float64 Gram product
 * alone. The machine is shared and noisy, so every time is the minimum of a
 * few repetitions, and the load average is recorded.
 *
 *   npx tsx bench/characterize-svd.ts [--sizes 64x176,1024x4096] [--vectors 50] [--threads 2]
 *
 * Prints one JSON object on stdout.
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { MatmulKernels } from '../src/engine/ort/matmul-kernels.js';
import { SeededRandom } from '../src/engine/linalg/seeded-random.js';
import { SpectralSolver } from '../src/engine/linalg/spectral-solver.js';

const { onnx } = onnxProto;

/** Default shapes: small ones a characterization visits by the hundred, and large model-sized ones. */
export const DEFAULT_SIZES: Array<[number, number]> = [
  [64, 176],
  [256, 256],
  [1024, 256],
  [1024, 4096],
  [3584, 3584],
  [3584, 18944],
];

/** One measured size. */
export interface SvdBenchRow {
  rows: number;
  cols: number;
  /** repetitions; every time below is the minimum over them */
  repetitions: number;
  /** spectrum(), values only */
  seconds: number;
  /** spectrum() with `vectors` leading left vectors */
  secondsWithVectors?: number;
  vectors?: number;
  /** the float64 Gram product alone, and its rate */
  gramSeconds: number;
  gramGflops: number;
  /** |sum s_i^2 - ||A||_F^2| / ||A||_F^2: a cheap end-to-end check */
  energyRelError: number;
  topValues: number[];
}

/** Whole benchmark output. */
export interface SvdBenchResult {
  threads: number | null;
  /** os.loadavg() before and after: the machine is shared, judge contention by these */
  loadavgStart: number[];
  loadavgEnd: number[];
  /** square n^3 MatMul rates in onnxruntime (best of 3) */
  baselineSize: number;
  baselineF64Gflops: number;
  baselineF32Gflops: number;
  sizes: SvdBenchRow[];
}

function randomMatrix(rows: number, cols: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  const a = new Float32Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform() - 0.5;
  return a;
}

async function bestOf<T>(reps: number, fn: () => Promise<T>): Promise<[T, number]> {
  let best = Number.POSITIVE_INFINITY;
  let out: T | undefined;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    out = await fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return [out as T, best];
}

/** Repetitions by size: the big ones take long and vary less. */
function repetitionsFor(rows: number, cols: number): number {
  if (Math.min(rows, cols) >= 3000 && Math.max(rows, cols) >= 10000) return 1;
  if (Math.min(rows, cols) >= 3000) return 2;
  return 3;
}

/** Rate of a square n x n x n MatMul of the given element type in onnxruntime, best of 3. */
async function squareMatmulGflops(n: number, type: 'float32' | 'float64', threads?: number): Promise<number> {
  const elem = type === 'float32' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.DOUBLE;
  const info = (name: string): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: elem, shape: { dim: [{ dimParam: 'n' }, { dimParam: 'n' }] } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: { name: 'mm', input: [info('A'), info('B')], output: [info('C')], node: [{ opType: 'MatMul', input: ['A', 'B'], output: ['C'] }] },
  });
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), {
    graphOptimizationLevel: 'all',
    ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
  });
  try {
    const src = randomMatrix(n, n, 7);
    const data = type === 'float32' ? src : Float64Array.from(src);
    const a = new ort.Tensor(type, data, [n, n]);
    await session.run({ A: a, B: a });
    const [, seconds] = await bestOf(3, () => session.run({ A: a, B: a }));
    return (2 * n ** 3) / seconds / 1e9;
  } finally {
    await session.release();
  }
}

/** Runs the benchmark for the given shapes (default {@link DEFAULT_SIZES}); `vectors` 0 skips the vector runs. */
export async function benchSvd(
  sizes: Array<[number, number]> = DEFAULT_SIZES,
  options: { vectors?: number; threads?: number } = {},
): Promise<SvdBenchResult> {
  const loadavgStart = loadavg();
  const wanted = options.vectors ?? 50;
  const baselineSize = 2048;
  const baselineF64Gflops = await squareMatmulGflops(baselineSize, 'float64', options.threads);
  const baselineF32Gflops = await squareMatmulGflops(baselineSize, 'float32', options.threads);
  const kernels = await MatmulKernels.create({ threads: options.threads });
  const solver = await SpectralSolver.create({ threads: options.threads });
  try {
    // Warm-up: compiles the sessions and the plain loops of both reduction routes.
    for (const [r, c] of [
      [64, 96],
      [600, 700],
    ]) {
      await solver.spectrum(randomMatrix(r, c, 3), r, c, { leftVectors: 10 });
    }
    const rowsOut: SvdBenchRow[] = [];
    for (const [rows, cols] of sizes) {
      const a = randomMatrix(rows, cols, rows * 31 + cols);
      const m = Math.min(rows, cols);
      const reps = repetitionsFor(rows, cols);
      const [, gramSeconds] = await bestOf(reps, () => kernels.gram(a, rows, cols, rows <= cols ? 'rows' : 'cols'));
      const [spec, seconds] = await bestOf(reps, () => solver.spectrum(a, rows, cols));
      let fro = 0;
      for (let i = 0; i < a.length; i++) fro += a[i] * a[i];
      const energy = spec.values.reduce((s, v) => s + v * v, 0);
      const row: SvdBenchRow = {
        rows,
        cols,
        repetitions: reps,
        seconds,
        gramSeconds,
        gramGflops: (2 * m * m * Math.max(rows, cols)) / gramSeconds / 1e9,
        energyRelError: Math.abs(energy - fro) / fro,
        topValues: Array.from(spec.values.subarray(0, 3)),
      };
      if (wanted > 0) {
        const k = Math.min(wanted, m);
        const [, withVectors] = await bestOf(reps, () => solver.spectrum(a, rows, cols, { leftVectors: k }));
        row.secondsWithVectors = withVectors;
        row.vectors = k;
      }
      rowsOut.push(row);
    }
    return {
      threads: options.threads ?? null,
      loadavgStart,
      loadavgEnd: loadavg(),
      baselineSize,
      baselineF64Gflops,
      baselineF32Gflops,
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
  const list = get('--sizes');
  const sizes =
    list === undefined
      ? DEFAULT_SIZES
      : list.split(',').map((s) => {
          const [r, c] = s.split('x').map(Number);
          if (!Number.isInteger(r) || !Number.isInteger(c) || r < 1 || c < 1) throw new RangeError(`'--sizes' entry '${s}' is not ROWSxCOLS`);
          return [r, c] as [number, number];
        });
  const vectors = Number(get('--vectors') ?? 50);
  if (!Number.isInteger(vectors) || vectors < 0) throw new RangeError(`'--vectors' must be a non-negative integer, got ${get('--vectors')}`);
  const threads = get('--threads');
  return { sizes, vectors, threads: threads === undefined ? undefined : Number(threads) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = parseArgs(process.argv.slice(2));
  const result = await benchSvd(args.sizes, { vectors: args.vectors, threads: args.threads });
  console.log(JSON.stringify(result, null, 2));
}
