/**
 * The one adapter between the linear-algebra code and onnxruntime-node.
 *
 * Each kernel is a tiny ONNX graph (MatMul / Gemm / Slice / Concat) with
 * symbolic dimensions, compiled once into an InferenceSession and reused for
 * every shape. Products are done in float64: float32 inputs are cast inside
 * the graph, so a product of two float32 numbers is exact and only the
 * accumulation rounds (in float64).
 */
import { availableParallelism } from 'node:os';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';

const { onnx } = onnxProto;
const F32 = onnx.TensorProto.DataType.FLOAT;
const F64 = onnx.TensorProto.DataType.DOUBLE;
const I64 = onnx.TensorProto.DataType.INT64;

type Dim = string | number;

function valueInfo(name: string, elemType: number, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function node(
  opType: string,
  input: string[],
  output: string[],
  ints: Record<string, number> = {},
  floats: Record<string, number> = {},
): onnxProto.onnx.INodeProto {
  const attribute = [
    ...Object.entries(ints).map(([name, i]) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i })),
    ...Object.entries(floats).map(([name, f]) => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f })),
  ];
  return { opType, input, output, attribute, name: `${opType}_${output[0]}` };
}

function int64Initializer(name: string, values: bigint[]): onnxProto.onnx.ITensorProto {
  return { name, dataType: I64, dims: [values.length], int64Data: values.map((v) => Number(v)) };
}

function encodeModel(graph: onnxProto.onnx.IGraphProto): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'frankenscope',
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Gram product of a float32 matrix: `G = A A^T` (side 'rows') or `A^T A` (side 'cols'), float64. */
function gramGraph(side: 'rows' | 'cols'): Uint8Array {
  return encodeModel({
    name: `gram_${side}`,
    input: [valueInfo('A', F32, ['r', 'c'])],
    output: [valueInfo('G', F64, side === 'rows' ? ['r', 'r'] : ['c', 'c'])],
    node: [
      node('Cast', ['A'], ['A64'], { to: F64 }),
      side === 'rows'
        ? node('Gemm', ['A64', 'A64'], ['G'], { transB: 1 })
        : node('Gemm', ['A64', 'A64'], ['G'], { transA: 1 }),
    ],
  });
}

/** `C = cast(A) * B`: float32 matrix times float64 matrix. */
function mixedProductGraph(): Uint8Array {
  return encodeModel({
    name: 'mixed_product',
    input: [valueInfo('A', F32, ['r', 'c']), valueInfo('B', F64, ['c', 'k'])],
    output: [valueInfo('C', F64, ['r', 'k'])],
    node: [node('Cast', ['A'], ['A64'], { to: F64 }), node('MatMul', ['A64', 'B'], ['C'])],
  });
}

/**
 * Rows of a panel (its columns, transposed; the matrix is symmetric) after
 * the delayed updates of the earlier panels of the same block:
 * `C - YTc^T VT - VTc^T YT`, where `VT`, `YT` (q x N) hold the earlier
 * reflectors and their `Y`, transposed, and `VTc`, `YTc` (q x b) are their
 * columns at the panel's position.
 */
function panelRowsGraph(): Uint8Array {
  return encodeModel({
    name: 'panel_rows',
    input: [
      valueInfo('C', F64, ['b', 'N']),
      valueInfo('VT', F64, ['q', 'N']),
      valueInfo('YT', F64, ['q', 'N']),
      valueInfo('VTc', F64, ['q', 'b']),
      valueInfo('YTc', F64, ['q', 'b']),
    ],
    output: [valueInfo('Out', F64, ['b', 'N'])],
    node: [
      node('Gemm', ['YTc', 'VT', 'C'], ['C1'], { transA: 1 }, { alpha: -1, beta: 1 }),
      node('Gemm', ['VTc', 'YT', 'C1'], ['Out'], { transA: 1 }, { alpha: -1, beta: 1 }),
    ],
  });
}

/**
 * `Y^T` of one panel reflector `Q = I - V T V^T` (given as `VkT` = V^T,
 * zero-padded to N columns) applied to `A = S - VT^T YT - YT^T VT` (the
 * block's trailing matrix with the earlier panels' updates delayed):
 * `X = A V T`, `Y = X - V (T^T V^T X) / 2`, so that
 * `Q^T A Q = A - V Y^T - Y V^T`. Everything is kept transposed (b x N) so
 * that the caller copies whole rows.
 */
function panelYGraph(): Uint8Array {
  return encodeModel({
    name: 'panel_y',
    input: [
      valueInfo('S', F64, ['N', 'N']),
      valueInfo('VkT', F64, ['b', 'N']),
      valueInfo('T', F64, ['b', 'b']),
      valueInfo('VT', F64, ['q', 'N']),
      valueInfo('YT', F64, ['q', 'N']),
    ],
    output: [valueInfo('YkT', F64, ['b', 'N'])],
    node: [
      // S V rather than V^T S: the big operand must be the un-packed left one.
      node('Gemm', ['S', 'VkT'], ['U0'], { transB: 1 }),
      node('Gemm', ['VkT', 'YT'], ['VtY'], { transB: 1 }),
      node('Gemm', ['VkT', 'VT'], ['VtV'], { transB: 1 }),
      node('Gemm', ['VT', 'VtY', 'U0'], ['U1'], { transA: 1, transB: 1 }, { alpha: -1, beta: 1 }),
      node('Gemm', ['YT', 'VtV', 'U1'], ['U'], { transA: 1, transB: 1 }, { alpha: -1, beta: 1 }),
      node('Gemm', ['T', 'U'], ['XT'], { transA: 1, transB: 1 }),
      node('Gemm', ['VkT', 'XT'], ['VtX'], { transB: 1 }),
      node('Gemm', ['T', 'VtX'], ['M'], { transA: 1 }),
      node('Gemm', ['M', 'VkT', 'XT'], ['YkT'], { transA: 1 }, { alpha: -0.5, beta: 1 }),
    ],
  });
}

/**
 * The delayed two-sided update of a block of panels:
 * `S[s:, s:] - VT22^T YT22 - YT22^T VT22` with `VT22 = VT[:, s:]` (same for YT).
 */
function blockUpdateGraph(): Uint8Array {
  const big = BigInt(Number.MAX_SAFE_INTEGER);
  return encodeModel({
    name: 'block_update',
    input: [
      valueInfo('S', F64, ['N', 'N']),
      valueInfo('VT', F64, ['q', 'N']),
      valueInfo('YT', F64, ['q', 'N']),
      valueInfo('starts', I64, [2]),
      valueInfo('start1', I64, [1]),
    ],
    output: [valueInfo('Out', F64, ['n', 'n'])],
    initializer: [
      int64Initializer('ends', [big, big]),
      int64Initializer('axes', [0n, 1n]),
      int64Initializer('end1', [big]),
      int64Initializer('axis1', [1n]),
    ],
    node: [
      node('Slice', ['S', 'starts', 'ends', 'axes'], ['S22']),
      node('Slice', ['VT', 'start1', 'end1', 'axis1'], ['VT22']),
      node('Slice', ['YT', 'start1', 'end1', 'axis1'], ['YT22']),
      node('Concat', ['VT22', 'YT22'], ['L'], { axis: 0 }),
      node('Concat', ['YT22', 'VT22'], ['R'], { axis: 0 }),
      node('Gemm', ['L', 'R', 'S22'], ['Out'], { transA: 1 }, { alpha: -1, beta: 1 }),
    ],
  });
}

/** One-sided block-reflector application: `Z - V (T (V^T Z))`. */
function blockReflectorGraph(): Uint8Array {
  return encodeModel({
    name: 'block_reflector',
    input: [valueInfo('Z', F64, ['n', 'k']), valueInfo('V', F64, ['n', 'b']), valueInfo('T', F64, ['b', 'b'])],
    output: [valueInfo('Out', F64, ['n', 'k'])],
    node: [
      node('Gemm', ['V', 'Z'], ['VtZ'], { transA: 1 }),
      node('MatMul', ['T', 'VtZ'], ['W']),
      node('Gemm', ['V', 'W', 'Z'], ['Out'], {}, { alpha: -1, beta: 1 }),
    ],
  });
}

type KernelName = 'gramRows' | 'gramCols' | 'mixedProduct' | 'panelRows' | 'panelY' | 'blockUpdate' | 'blockReflector';

const builders: Record<KernelName, () => Uint8Array> = {
  gramRows: () => gramGraph('rows'),
  gramCols: () => gramGraph('cols'),
  mixedProduct: mixedProductGraph,
  panelRows: panelRowsGraph,
  panelY: panelYGraph,
  blockUpdate: blockUpdateGraph,
  blockReflector: blockReflectorGraph,
};

/** Options for {@link MatmulKernels.create}. */
export interface MatmulKernelOptions {
  /** intra-op threads for onnxruntime (default: os.availableParallelism(); onnxruntime's own default uses too few here). */
  threads?: number;
}

/**
 * Float64 matrix kernels run by onnxruntime. Sessions are built lazily, one
 * per kernel kind, and live until {@link MatmulKernels.release}. Matrices are
 * row-major; results are fresh arrays owned by the caller.
 */
export class MatmulKernels {
  private readonly sessions = new Map<KernelName, Promise<ort.InferenceSession>>();
  private released = false;

  private constructor(private readonly threads: number) {}

  /** Creates the kernel set; sessions compile on first use. */
  static async create(options: MatmulKernelOptions = {}): Promise<MatmulKernels> {
    const { threads } = options;
    if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
      throw new RangeError(`'threads' must be a positive integer, got ${threads}`);
    }
    return new MatmulKernels(threads ?? availableParallelism());
  }

  private session(name: KernelName): Promise<ort.InferenceSession> {
    if (this.released) throw new Error('MatmulKernels used after release()');
    let s = this.sessions.get(name);
    if (s === undefined) {
      const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', intraOpNumThreads: this.threads };
      s = ort.InferenceSession.create(builders[name](), opts);
      this.sessions.set(name, s);
    }
    return s;
  }

  private async run(
    name: KernelName,
    feeds: Record<string, ort.Tensor>,
    output: string,
    into?: ort.Tensor,
  ): Promise<Float64Array> {
    const session = await this.session(name);
    const result = await (into === undefined ? session.run(feeds) : session.run(feeds, { [output]: into }));
    if (into !== undefined) return into.data as Float64Array;
    const out = result[output];
    if (out === undefined) throw new Error(`kernel '${name}' produced no output '${output}'`);
    return out.data as Float64Array;
  }

  /**
   * Gram matrix in float64 of the float32 row-major matrix `a` (rows x cols):
   * `A A^T` (rows x rows) when `side` is 'rows', `A^T A` (cols x cols) when 'cols'.
   */
  gram(a: Float32Array, rows: number, cols: number, side: 'rows' | 'cols'): Promise<Float64Array> {
    const feeds = { A: new ort.Tensor('float32', a, [rows, cols]) };
    return this.run(side === 'rows' ? 'gramRows' : 'gramCols', feeds, 'G');
  }

  /** `cast(A) B` for float32 `a` (rows x cols) and float64 `b` (cols x k). */
  mixedProduct(a: Float32Array, rows: number, cols: number, b: Float64Array, k: number): Promise<Float64Array> {
    const feeds = { A: new ort.Tensor('float32', a, [rows, cols]), B: new ort.Tensor('float64', b, [cols, k]) };
    return this.run('mixedProduct', feeds, 'C');
  }

  /**
   * `C - YTc^T VT - VTc^T YT` for `c` (b x N), `vt`, `yt` (first q rows of
   * q' x N) and `vtc`, `ytc` (q x b): a panel's rows with the delayed updates applied.
   */
  panelRows(
    c: Float64Array,
    n: number,
    b: number,
    vt: Float64Array,
    yt: Float64Array,
    vtc: Float64Array,
    ytc: Float64Array,
    q: number,
  ): Promise<Float64Array> {
    const feeds = {
      C: new ort.Tensor('float64', c, [b, n]),
      VT: new ort.Tensor('float64', vt.subarray(0, q * n), [q, n]),
      YT: new ort.Tensor('float64', yt.subarray(0, q * n), [q, n]),
      VTc: new ort.Tensor('float64', vtc.subarray(0, q * b), [q, b]),
      YTc: new ort.Tensor('float64', ytc.subarray(0, q * b), [q, b]),
    };
    return this.run('panelRows', feeds, 'Out');
  }

  /**
   * `Y^T` (b x N) of the reflector `I - V T V^T` (`vkt` = V^T, b x N; `t`
   * b x b) applied two-sidedly to `S - VT^T YT - YT^T VT` (`s` N x N
   * symmetric, the first q rows of `vt`, `yt` (q' x N) used).
   */
  panelY(s: Float64Array, n: number, vkt: Float64Array, t: Float64Array, b: number, vt: Float64Array, yt: Float64Array, q: number): Promise<Float64Array> {
    const feeds = {
      S: new ort.Tensor('float64', s.subarray(0, n * n), [n, n]),
      VkT: new ort.Tensor('float64', vkt, [b, n]),
      T: new ort.Tensor('float64', t, [b, b]),
      VT: new ort.Tensor('float64', vt.subarray(0, q * n), [q, n]),
      YT: new ort.Tensor('float64', yt.subarray(0, q * n), [q, n]),
    };
    return this.run('panelY', feeds, 'YkT');
  }

  /**
   * `S[start:, start:] - VT22^T YT22 - YT22^T VT22` with `VT22 = VT[:, start:]`
   * (`s` size x size symmetric, `vt`, `yt` q x size). When `out` is given (at
   * least (size - start)^2 long, not overlapping `s`), the result is written to
   * its start and a view of it returned.
   */
  blockUpdate(
    s: Float64Array,
    size: number,
    start: number,
    vt: Float64Array,
    yt: Float64Array,
    q: number,
    out?: Float64Array,
  ): Promise<Float64Array> {
    const n = size - start;
    if (out !== undefined && out.length < n * n) throw new RangeError(`'out' must hold ${n * n} elements, got ${out.length}`);
    const feeds = {
      S: new ort.Tensor('float64', s.subarray(0, size * size), [size, size]),
      VT: new ort.Tensor('float64', vt.subarray(0, q * size), [q, size]),
      YT: new ort.Tensor('float64', yt.subarray(0, q * size), [q, size]),
      starts: new ort.Tensor('int64', BigInt64Array.from([BigInt(start), BigInt(start)]), [2]),
      start1: new ort.Tensor('int64', BigInt64Array.from([BigInt(start)]), [1]),
    };
    const into = out === undefined ? undefined : new ort.Tensor('float64', out.subarray(0, n * n), [n, n]);
    return this.run('blockUpdate', feeds, 'Out', into);
  }

  /** `Z - V T V^T Z` for `z` (n x k), `v` (n x b), `t` (b x b). */
  blockReflector(z: Float64Array, n: number, k: number, v: Float64Array, t: Float64Array, b: number): Promise<Float64Array> {
    const feeds = {
      Z: new ort.Tensor('float64', z, [n, k]),
      V: new ort.Tensor('float64', v, [n, b]),
      T: new ort.Tensor('float64', t, [b, b]),
    };
    return this.run('blockReflector', feeds, 'Out');
  }

  /** Releases every compiled session; the object is unusable afterwards. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const sessions = await Promise.all(this.sessions.values());
    this.sessions.clear();
    await Promise.all(sessions.map((s) => s.release()));
  }
}
