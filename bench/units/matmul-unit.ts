/**
 * A compute-bound work unit for bench/scale-out.ts until the analyses are cut
 * into units: onnxruntime float32 MatMuls of a 3B MLP-like shape on the model
 * worker's shared sessions (so its threads setting applies), answering a
 * checksum per repetition.
 */
import { F32, GraphBuilder } from '../../src/engine/graphs/graph-builder.js';
import type { JobContext } from '../../src/engine/runtime/job-protocol.js';

export interface MatmulUnitInput {
  index: number;
  tokens: number;
  hidden: number;
  inter: number;
  reps: number;
}

function matmulGraph(hidden: number, inter: number): Uint8Array {
  const g = new GraphBuilder('bench-matmul');
  const x = g.input('x', ['T', hidden]);
  const w = g.input('w', [hidden, inter], F32);
  g.op('MatMul', [x, w], {}, 'y');
  g.output('y', ['T', inter]);
  return g.encode();
}

export async function matmulUnit(input: MatmulUnitInput, context: JobContext): Promise<{ index: number; checksums: Float64Array }> {
  const { tokens, hidden, inter } = input;
  const session = await context.pool.get(`bench-matmul-${hidden}x${inter}`, () => matmulGraph(hidden, inter));
  const w = Float32Array.from({ length: hidden * inter }, (_, i) => Math.sin(i * 0.37 + input.index) * 0.02);
  const checksums = new Float64Array(input.reps);
  for (let r = 0; r < input.reps; r++) {
    const x = Float32Array.from({ length: tokens * hidden }, (_, i) => Math.cos(i * 0.11 + r + input.index));
    const { y } = await session.run({ x: { data: x, dims: [tokens, hidden] }, w: { data: w, dims: [hidden, inter] } });
    let sum = 0;
    const out = y!.data as Float32Array;
    for (let i = 0; i < out.length; i += 97) sum += out[i]!;
    checksums[r] = sum;
    await context.checkCancelled();
  }
  return { index: input.index, checksums };
}
