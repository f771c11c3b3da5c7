import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/engine/checkpoint/CheckpointError.js';
import { readSafetensorsHeader, writeSafetensors } from '../../src/engine/checkpoint/safetensors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fs-st-validate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
/** Writes a file made of an 8-byte length (default: the header's), a header and `dataBytes` zero bytes. */
async function rawFile(header: string | Uint8Array | object, dataBytes: number, declaredLength?: bigint): Promise<string> {
  const h = header instanceof Uint8Array ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declaredLength ?? BigInt(h.byteLength));
  const path = join(dir, `f${counter++}.safetensors`);
  await writeFile(path, Buffer.concat([prefix, h, Buffer.alloc(dataBytes)]));
  return path;
}

async function rejection(path: string): Promise<CheckpointError> {
  try {
    await readSafetensorsHeader(path);
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error(`${path} was accepted`);
}

/** Asserts the code, and that the error (and its message) names the file and, when given, the tensor. */
async function expectViolation(path: string, code: string, tensor?: string): Promise<void> {
  const e = await rejection(path);
  expect(e.code).toBe(code);
  expect(e.file).toBe(path);
  expect(e.message).toContain(path);
  if (tensor !== undefined) {
    expect(e.tensor).toBe(tensor);
    expect(e.message).toContain(`'${tensor}'`);
  }
}

const f32 = (n: number, begin: number) => ({ dtype: 'F32', shape: [n], data_offsets: [begin, begin + 4 * n] });

describe('safetensors header validation', () => {
  it('accepts a well-formed file with metadata, space padding and a zero-sized tensor', async () => {
    const header = JSON.stringify({ __metadata__: { format: 'pt' }, b: f32(2, 8), a: f32(2, 0), empty: { dtype: 'BF16', shape: [0, 3], data_offsets: [16, 16] } });
    const path = await rawFile(header + '   ', 16);
    const parsed = await readSafetensorsHeader(path);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    const dataStart = 8 + header.length + 3;
    expect(parsed.tensors.map((t) => [t.name, t.dataOffset, t.byteLength])).toEqual([
      ['a', dataStart, 8],
      ['b', dataStart + 8, 8],
      ['empty', dataStart + 16, 0],
    ]);
  });

  it('FILE_TOO_SMALL: fewer than 8 bytes', async () => {
    const path = join(dir, 'tiny.safetensors');
    await writeFile(path, Buffer.from([1, 0, 0, 0, 0]));
    await expectViolation(path, 'FILE_TOO_SMALL');
  });

  it('HEADER_TOO_LARGE: declared header above 100 MB', async () => {
    await expectViolation(await rawFile('{}', 0, 100_000_001n), 'HEADER_TOO_LARGE');
    await expectViolation(await rawFile('{}', 0, 2n ** 64n - 1n), 'HEADER_TOO_LARGE');
  });

  it('HEADER_BEYOND_FILE: declared header longer than the file', async () => {
    await expectViolation(await rawFile('{}', 0, 3n), 'HEADER_BEYOND_FILE');
  });

  it('HEADER_NOT_UTF8', async () => {
    await expectViolation(await rawFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 0), 'HEADER_NOT_UTF8');
  });

  it('HEADER_INVALID_JSON', async () => {
    await expectViolation(await rawFile('{"a": ', 0), 'HEADER_INVALID_JSON');
  });

  it('HEADER_NOT_OBJECT: arrays and scalars', async () => {
    await expectViolation(await rawFile('[1, 2]', 0), 'HEADER_NOT_OBJECT');
    await expectViolation(await rawFile('null', 0), 'HEADER_NOT_OBJECT');
  });

  it('METADATA_INVALID: __metadata__ must map strings to strings', async () => {
    await expectViolation(await rawFile({ __metadata__: { format: 1 } }, 0), 'METADATA_INVALID');
    await expectViolation(await rawFile({ __metadata__: 'pt' }, 0), 'METADATA_INVALID');
  });

  it('TENSOR_INFO_INVALID: entry not an object, or dtype missing', async () => {
    await expectViolation(await rawFile({ w: 5 }, 0), 'TENSOR_INFO_INVALID', 'w');
    await expectViolation(await rawFile({ w: { shape: [1], data_offsets: [0, 4] } }, 4), 'TENSOR_INFO_INVALID', 'w');
  });

  it('UNKNOWN_DTYPE', async () => {
    await expectViolation(await rawFile({ w: { dtype: 'F12', shape: [1], data_offsets: [0, 4] } }, 4), 'UNKNOWN_DTYPE', 'w');
  });

  it('INVALID_SHAPE: negative, fractional or non-array shapes', async () => {
    for (const shape of [[2, -1], [2.5], 'abc', [1, '2']]) {
      await expectViolation(await rawFile({ w: { dtype: 'F32', shape, data_offsets: [0, 8] } }, 8), 'INVALID_SHAPE', 'w');
    }
  });

  it('INVALID_OFFSETS: not [begin, end] with begin <= end', async () => {
    for (const offsets of [[8, 4], [0], [-4, 4], [0, 4, 8], 'x', [0, 4.5]]) {
      await expectViolation(await rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: offsets } }, 8), 'INVALID_OFFSETS', 'w');
    }
  });

  it('SIZE_MISMATCH: shape x dtype size differs from end - begin', async () => {
    await expectViolation(await rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4), 'SIZE_MISMATCH', 'w');
    await expectViolation(await rawFile({ w: { dtype: 'BF16', shape: [2, 2], data_offsets: [0, 16] } }, 16), 'SIZE_MISMATCH', 'w');
  });

  it('OFFSETS_BEYOND_DATA: a tensor ends past the data section', async () => {
    await expectViolation(await rawFile({ w: f32(2, 0) }, 4), 'OFFSETS_BEYOND_DATA', 'w');
  });

  it('TENSORS_OVERLAP', async () => {
    await expectViolation(await rawFile({ a: f32(2, 0), b: f32(2, 4) }, 12), 'TENSORS_OVERLAP', 'b');
  });

  it('TENSORS_GAP: between tensors, or before the first', async () => {
    await expectViolation(await rawFile({ a: f32(1, 0), b: f32(1, 8) }, 12), 'TENSORS_GAP', 'b');
    await expectViolation(await rawFile({ a: f32(1, 4) }, 8), 'TENSORS_GAP', 'a');
  });

  it('DATA_TRAILING: bytes after the last tensor', async () => {
    await expectViolation(await rawFile({ a: f32(1, 0) }, 8), 'DATA_TRAILING');
    await expectViolation(await rawFile({}, 1), 'DATA_TRAILING');
  });
});

describe('writeSafetensors', () => {
  it('writes an 8-aligned header the reader accepts, tensors in the given order', async () => {
    const path = join(dir, 'written.safetensors');
    await writeSafetensors(path, [
      { name: 'z', dtype: 'BF16', shape: [3], data: new Float32Array([1, 2, 3]) },
      { name: 'a', dtype: 'F32', shape: [1, 2], data: new Float32Array([4, 5]) },
    ], { format: 'pt' });
    const h = await readSafetensorsHeader(path);
    expect(h.dataStart % 8).toBe(0);
    expect(h.metadata).toEqual({ format: 'pt' });
    expect(h.tensors.map((t) => [t.name, t.dtype, t.shape, t.dataOffset - h.dataStart, t.byteLength])).toEqual([
      ['z', 'BF16', [3], 0, 6],
      ['a', 'F32', [1, 2], 6, 8],
    ]);
  });

  it('refuses data that does not match the shape, repeated names and bad dtypes', async () => {
    const path = join(dir, 'bad.safetensors');
    await expect(writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [3], data: new Float32Array(2) }])).rejects.toThrow(/'data' has 2 elements/);
    await expect(writeSafetensors(path, [
      { name: 'w', dtype: 'F32', shape: [1], data: new Float32Array(1) },
      { name: 'w', dtype: 'F32', shape: [1], data: new Float32Array(1) },
    ])).rejects.toThrow(RangeError);
    await expect(writeSafetensors(path, [{ name: 'w', dtype: 'I8' as 'F32', shape: [1], data: new Float32Array(1) }])).rejects.toThrow(TypeError);
  });
});
