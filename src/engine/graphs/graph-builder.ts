/**
 * A small helper for writing ONNX graphs in TypeScript with `onnx-proto`:
 * named inputs with symbolic dimensions, nodes, constants, initializers and
 * outputs, encoded to the bytes an InferenceSession accepts.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX element types used by the engine. */
export const F32 = onnx.TensorProto.DataType.FLOAT;
export const I64 = onnx.TensorProto.DataType.INT64;

/** A dimension: a number, or a name for a symbolic (run-time) size. */
export type Dim = string | number;

/** A node attribute: an integer, a list of integers, or a float (`{ f }`). */
export type Attr = number | number[] | { f: number };

/** Opset of the default domain; ReduceMean still takes `axes` as an attribute here. */
export const OPSET = 17;
/** Domain of onnxruntime's contrib operators (FusedMatMul). */
export const MS_DOMAIN = 'com.microsoft';

function valueInfo(name: string, elemType: number, dims: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
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

function attribute(name: string, a: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof a === 'number') return { name, type: T.INT, i: a };
  if (Array.isArray(a)) return { name, type: T.INTS, ints: a };
  return { name, type: T.FLOAT, f: a.f };
}

/** Builds one ONNX graph; every value name may carry a prefix so pieces compose into one graph. */
export class GraphBuilder {
  readonly #nodes: onnxProto.onnx.INodeProto[] = [];
  readonly #inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #outputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly #constants = new Map<string, string>();
  #counter = 0;

  constructor(readonly name: string) {}

  /** A fresh, unused value name. */
  fresh(hint: string): string {
    return `${hint}__${this.#counter++}`;
  }

  /** Declares a graph input and returns its name. */
  input(name: string, dims: readonly Dim[], elemType: number = F32): string {
    this.#inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares an existing value as a graph output. */
  output(name: string, dims: readonly Dim[], elemType: number = F32): void {
    this.#outputs.push(valueInfo(name, elemType, dims));
  }

  /** Adds a float32 initializer (weights bound into the graph). */
  initializer(name: string, dims: readonly number[], data: Float32Array): string {
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.#initializers.push({ name, dataType: F32, dims: [...dims], rawData: raw });
    return name;
  }

  /** An int64 constant vector (shared between uses). */
  ints(values: readonly number[]): string {
    const key = `i:${values.join(',')}`;
    let name = this.#constants.get(key);
    if (!name) {
      name = this.fresh('const_i64');
      this.#initializers.push({ name, dataType: I64, dims: [values.length], int64Data: [...values] });
      this.#constants.set(key, name);
    }
    return name;
  }

  /** A float32 scalar constant (shared between uses). */
  scalar(value: number): string {
    const key = `f:${value}`;
    let name = this.#constants.get(key);
    if (!name) {
      name = this.fresh('const_f32');
      this.#initializers.push({ name, dataType: F32, dims: [], floatData: [value] });
      this.#constants.set(key, name);
    }
    return name;
  }

  /** Adds one node with one output and returns the output name (`out` or a fresh one). */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, out?: string, domain = ''): string {
    const name = out ?? this.fresh(opType.toLowerCase());
    this.#nodes.push({
      opType,
      domain,
      input: [...inputs],
      output: [name],
      name: `n${this.#nodes.length}_${opType}`,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return name;
  }

  /** Encodes the graph as a model (opset {@link OPSET} plus com.microsoft 1). */
  encode(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [
        { domain: '', version: OPSET },
        { domain: MS_DOMAIN, version: 1 },
      ],
      producerName: 'frankenscope',
      graph: {
        name: this.name,
        node: this.#nodes,
        input: this.#inputs,
        output: this.#outputs,
        initializer: this.#initializers,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
