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
 * Two-sided block-reflector update of the trailing part of a symmetric matrix:
 * with `S22 = S[s:, s:]` and `Q = I - V T V^T`, returns `Q^T S22 Q` as
 * `S22 - V Y^T - Y V^T` where `X = S22 V T` and `Y = X - V (T^T V^T X) / 2`.
 */
function trailingUpdateGraph(): Uint8Array {
  return encodeModel({
    name: 'trailing_update',
    input: [
      valueInfo('S', F64, ['N', 'N']),
      valueInfo('V', F64, ['n', 'b']),
      valueInfo('T', F64, ['b', 'b']),
      valueInfo('starts', I64, [2]),
    ],
    output: [valueInfo('Out', F64, ['n', 'n'])],
    initializer: [
      int64Initializer('ends', [BigInt(Number.MAX_SAFE_INTEGER), BigInt(Number.MAX_SAFE_INTEGER)]),
      int64Initializer('axes', [0n, 1n]),
    ],
    node: [
      node('Slice', ['S', 'starts', 'ends', 'axes'], ['S22']),
      node('MatMul', ['S22', 'V'], ['SV']),
      node('MatMul', ['SV', 'T'], ['X']),
      node('Gemm', ['V', 'X'], ['VtX'], { transA: 1 }),
      node('Gemm', ['T', 'VtX'], ['M'], { transA: 1 }),
      node('Gemm', ['V', 'M', 'X'], ['Y'], {}, { alpha: -0.5, beta: 1 }),
      node('Concat', ['V', 'Y'], ['L'], { axis: 1 }),
      node('Concat', ['Y', 'V'], ['R'], { axis: 1 }),
      node('Gemm', ['L', 'R', 'S22'], ['Out'], { transB: 1 }, { alpha: -1, beta: 1 }),
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

type KernelName = 'gramRows' | 'gramCols' | 'mixedProduct' | 'trailingUpdate' | 'blockReflector';

const builders: Record<KernelName, () => Uint8Array> = {
  gramRows: () => gramGraph('rows'),
  gramCols: () => gramGraph('cols'),
  mixedProduct: mixedProductGraph,
  trailingUpdate: trailingUpdateGraph,
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
   * `Q^T S[s:, s:] Q` with `Q = I - V T V^T`, for symmetric `s` (size x size),
   * `v` ((size - start) x b) and `t` (b x b, upper triangular). When `out`
   * is given (at least (size - start)^2 long, not overlapping `s`), the
   * result is written to its start and a view of it returned.
   */
  trailingUpdate(
    s: Float64Array,
    size: number,
    start: number,
    v: Float64Array,
    t: Float64Array,
    b: number,
    out?: Float64Array,
  ): Promise<Float64Array> {
    const n = size - start;
    if (out !== undefined && out.length < n * n) throw new RangeError(`'out' must hold ${n * n} elements, got ${out.length}`);
    const feeds = {
      S: new ort.Tensor('float64', s, [size, size]),
      V: new ort.Tensor('float64', v, [n, b]),
      T: new ort.Tensor('float64', t, [b, b]),
      starts: new ort.Tensor('int64', BigInt64Array.from([BigInt(start), BigInt(start)]), [2]),
    };
    const into = out === undefined ? undefined : new ort.Tensor('float64', out.subarray(0, n * n), [n, n]);
    return this.run('trailingUpdate', feeds, 'Out', into);
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
