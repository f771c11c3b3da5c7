/**
 * Forms dSFT = SFT - Base and dRL = RL - SFT for one tensor, with their
 * energies, in a single fused pass over the three stored tensors. This pass
 * is memory-bound, so reading each element once (instead of converting,
 * subtracting and summing in separate loops) is what makes it fast.
 */

/** The two deltas of one tensor and their energies (everything but the spectra). */
export interface TensorDeltas {
  dSft: Float32Array;
  dRl: Float32Array;
  /** ||W_IN||_F */
  inNorm: number;
  froSft: number;
  froRl: number;
  /** <dSFT, dRL> */
  cross: number;
}

/** What reading deltas needs from a checkpoint. */
export interface RawTensorSource {
  readonly tensors: ReadonlyMap<string, { dtype?: string; shape: number[] }>;
  readFloat32(name: string): Promise<Float32Array>;
  readRaw?(name: string): Promise<Uint8Array>;
}

type Trio<T> = { base: T; sft: T; rl: T };

function fromFloat32(base: Float32Array, sft: Float32Array, rl: Float32Array): TensorDeltas {
  const n = sft.length;
  const dSft = new Float32Array(n);
  const dRl = new Float32Array(n);
  let inSq = 0;
  let sftSq = 0;
  let rlSq = 0;
  let cross = 0;
  for (let i = 0; i < n; i++) {
    const s = sft[i]!;
    const ds = Math.fround(s - base[i]!);
    const dr = Math.fround(rl[i]! - s);
    dSft[i] = ds;
    dRl[i] = dr;
    inSq += s * s;
    sftSq += ds * ds;
    rlSq += dr * dr;
    cross += ds * dr;
  }
  return { dSft, dRl, inNorm: Math.sqrt(inSq), froSft: Math.sqrt(sftSq), froRl: Math.sqrt(rlSq), cross };
}

function fromBfloat16(base: Uint16Array, sft: Uint16Array, rl: Uint16Array): TensorDeltas {
  const n = sft.length;
  const dSft = new Float32Array(n);
  const dRl = new Float32Array(n);
  // bf16 is the top half of a float32: widen through a shared scratch word
  const scratch = new Float32Array(3);
  const bits = new Int32Array(scratch.buffer);
  let inSq = 0;
  let sftSq = 0;
  let rlSq = 0;
  let cross = 0;
  for (let i = 0; i < n; i++) {
    bits[0] = base[i]! << 16;
    bits[1] = sft[i]! << 16;
    bits[2] = rl[i]! << 16;
    const s = scratch[1]!;
    const ds = Math.fround(s - scratch[0]!);
    const dr = Math.fround(scratch[2]! - s);
    dSft[i] = ds;
    dRl[i] = dr;
    inSq += s * s;
    sftSq += ds * ds;
    rlSq += dr * dr;
    cross += ds * dr;
  }
  return { dSft, dRl, inNorm: Math.sqrt(inSq), froSft: Math.sqrt(sftSq), froRl: Math.sqrt(rlSq), cross };
}

function view<T>(bytes: Uint8Array, Kind: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number }): T {
  return new Kind(bytes.buffer, bytes.byteOffset, bytes.byteLength / Kind.BYTES_PER_ELEMENT);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads one tensor from the three checkpoints and forms both deltas in float32. */
export async function readDeltas(trio: Trio<RawTensorSource>, name: string): Promise<TensorDeltas> {
  const dtypes = [trio.base, trio.sft, trio.rl].map((c) => c.tensors.get(name)?.dtype);
  const same = dtypes[0] !== undefined && dtypes.every((d) => d === dtypes[0]);
  const raw = trio.base.readRaw && trio.sft.readRaw && trio.rl.readRaw;
  if (same && raw && LITTLE_ENDIAN && (dtypes[0] === 'BF16' || dtypes[0] === 'F32')) {
    const [b, s, r] = await Promise.all([trio.base.readRaw!(name), trio.sft.readRaw!(name), trio.rl.readRaw!(name)]);
    const aligned = [b, s, r].every((x) => x.byteOffset % 4 === 0);
    if (aligned) {
      return dtypes[0] === 'BF16'
        ? fromBfloat16(view(b, Uint16Array), view(s, Uint16Array), view(r, Uint16Array))
        : fromFloat32(view(b, Float32Array), view(s, Float32Array), view(r, Float32Array));
    }
  }
  const [b, s, r] = await Promise.all([trio.base.readFloat32(name), trio.sft.readFloat32(name), trio.rl.readFloat32(name)]);
  return fromFloat32(b, s, r);
}
