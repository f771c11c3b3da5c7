/**
 * The safetensors adapter: the one place that parses and writes the format.
 *
 * Layout: 8 bytes u64 LE header length N, N bytes of UTF-8 JSON (an object
 * mapping tensor name -> {dtype, shape, data_offsets}, plus an optional
 * string->string `__metadata__`), then the data section. Offsets are relative
 * to the data section. Validation follows the reference implementation: the
 * tensors, sorted by offsets, must tile the data section exactly.
 */
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { JsonSyntaxError, openConfined, parseJsonNamingPlace, type AllowedRoots } from '../fs/confined-files.js';
import { DTYPE_BYTES, fromFloat32, isKnownDtype, type StorableDtype } from './dtypes.js';
import { CheckpointError } from './CheckpointError.js';

/** The reference implementation refuses headers above 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor's entry in a safetensors file. */
export interface TensorInfo {
  name: string;
  /** safetensors dtype string, e.g. 'F32', 'F16', 'BF16' */
  dtype: string;
  shape: number[];
  /** absolute path of the file holding the tensor */
  file: string;
  /** absolute byte offset of the tensor's data in the file */
  dataOffset: number;
  byteLength: number;
}

/** A validated safetensors header. */
export interface SafetensorsHeader {
  file: string;
  metadata: Record<string, string>;
  /** in file order (by offset) */
  tensors: TensorInfo[];
  /** 8 + N: where the data section starts */
  dataStart: number;
}

/** Product of a shape, checked to stay an exact integer. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function isNonNegativeInteger(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/**
 * Validates a header (JSON bytes) against the file's total size and returns
 * its tensors with absolute offsets.
 * @param headerBytes the N bytes after the length prefix
 * @param fileSize total size of the file in bytes
 * @param file absolute path, used in messages and in the returned infos
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new CheckpointError('HEADER_NOT_UTF8', `safetensors header of ${file} is not valid UTF-8`, { file });
  }
  let json: unknown;
  try {
    json = parseJsonNamingPlace(text, file);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    throw new CheckpointError('HEADER_INVALID_JSON', `safetensors header of ${file} is not valid JSON: ${e.problem} at line ${e.line}, column ${e.column} of the header`, { file });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError('HEADER_NOT_OBJECT', `safetensors header of ${file} is not a JSON object`, { file });
  }
  const dataStart = 8 + headerBytes.byteLength;
  const dataLength = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { info: TensorInfo; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new CheckpointError('METADATA_INVALID', `'__metadata__' in ${file} is not an object of strings`, { file });
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          throw new CheckpointError('METADATA_INVALID', `'__metadata__.${k}' in ${file} is ${JSON.stringify(v)}, not a string`, { file });
        }
        metadata[k] = v;
      }
      continue;
    }
    const where = { file, tensor: name };
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new CheckpointError('TENSOR_INFO_INVALID', `tensor '${name}' in ${file}: entry is not an object`, where);
    }
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string') {
      throw new CheckpointError('TENSOR_INFO_INVALID', `tensor '${name}' in ${file}: 'dtype' is missing or not a string`, where);
    }
    if (!isKnownDtype(dtype)) {
      throw new CheckpointError('UNKNOWN_DTYPE', `tensor '${name}' in ${file}: unknown dtype '${dtype}'`, where);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
      throw new CheckpointError('INVALID_SHAPE', `tensor '${name}' in ${file}: 'shape' ${JSON.stringify(shape)} is not an array of non-negative integers`, where);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger) || offsets[0] > offsets[1]) {
      throw new CheckpointError('INVALID_OFFSETS', `tensor '${name}' in ${file}: 'data_offsets' ${JSON.stringify(offsets)} is not [begin, end] with 0 <= begin <= end`, where);
    }
    const [begin, end] = offsets as [number, number];
    const count = elementCount(shape);
    const expected = count * DTYPE_BYTES[dtype]!;
    if (!Number.isSafeInteger(expected)) {
      throw new CheckpointError('INVALID_SHAPE', `tensor '${name}' in ${file}: shape ${JSON.stringify(shape)} is too large`, where);
    }
    if (expected !== end - begin) {
      throw new CheckpointError('SIZE_MISMATCH', `tensor '${name}' in ${file}: shape ${JSON.stringify(shape)} x ${dtype} needs ${expected} bytes but data_offsets span ${end - begin}`, where);
    }
    if (end > dataLength) {
      throw new CheckpointError('OFFSETS_BEYOND_DATA', `tensor '${name}' in ${file}: data_offsets end ${end} is beyond the data section (${Math.max(dataLength, 0)} bytes)`, where);
    }
    entries.push({ begin, end, info: { name, dtype, shape: shape as number[], file, dataOffset: dataStart + begin, byteLength: end - begin } });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const { begin, info } of entries) {
    if (begin < cursor) {
      throw new CheckpointError('TENSORS_OVERLAP', `tensor '${info.name}' in ${file} begins at ${begin}, inside the previous tensor (which ends at ${cursor})`, { file, tensor: info.name });
    }
    if (begin > cursor) {
      throw new CheckpointError('TENSORS_GAP', `tensor '${info.name}' in ${file} begins at ${begin}, leaving a gap after byte ${cursor} of the data section`, { file, tensor: info.name });
    }
    cursor = info.byteLength + begin;
  }
  if (cursor !== dataLength) {
    throw new CheckpointError('DATA_TRAILING', `data section of ${file} has ${dataLength} bytes but its tensors cover only ${cursor}`, { file });
  }
  return { file, metadata, tensors: entries.map((e) => e.info), dataStart };
}

/**
 * Reads and validates the header of a safetensors file (no tensor data is
 * read); the file must be a regular file inside `roots` (default: its folder).
 */
export async function readSafetensorsHeader(file: string, roots: AllowedRoots = [dirname(file)]): Promise<SafetensorsHeader> {
  const fh = await openConfined(file, roots);
  try {
    const { size } = await fh.stat();
    if (size < 8) {
      throw new CheckpointError('FILE_TOO_SMALL', `${file} has ${size} bytes, fewer than the 8-byte header length`, { file });
    }
    const prefix = Buffer.alloc(8);
    await readFully(fh, prefix, 0, file);
    const n = prefix.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER_BYTES)) {
      throw new CheckpointError('HEADER_TOO_LARGE', `${file} declares a ${n}-byte header, above the ${MAX_HEADER_BYTES}-byte limit`, { file });
    }
    const headerLength = Number(n);
    if (8 + headerLength > size) {
      throw new CheckpointError('HEADER_BEYOND_FILE', `${file} declares a ${headerLength}-byte header but has only ${size - 8} bytes after the length`, { file });
    }
    const header = new Uint8Array(headerLength);
    await readFully(fh, header, 8, file);
    return parseSafetensorsHeader(header, size, file);
  } finally {
    await fh.close();
  }
}

/** Fills `target` from `position`, looping over short reads. */
export async function readFully(
  fh: { read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> },
  target: Uint8Array,
  position: number,
  file: string,
): Promise<void> {
  const CHUNK = 1 << 30; // keep each read well below the platform's 2 GiB limit
  let done = 0;
  while (done < target.byteLength) {
    const want = Math.min(CHUNK, target.byteLength - done);
    const { bytesRead } = await fh.read(target, done, want, position + done);
    if (bytesRead === 0) {
      throw new CheckpointError('FILE_CHANGED', `${file} ended at byte ${position + done}, before the ${target.byteLength} bytes expected at ${position}; was it modified?`, { file });
    }
    done += bytesRead;
  }
}

/** Writes all of `bytes` at `position`, looping over short writes; returns the byte count. */
async function writeAll(
  fh: { write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> },
  bytes: Uint8Array,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done, position + done);
    done += bytesWritten;
  }
  return bytes.byteLength;
}

/** A tensor for {@link writeSafetensors}: float32 data converted on write. */
export interface TensorToWrite {
  name: string;
  dtype: StorableDtype;
  shape: number[];
  data: Float32Array;
}

/**
 * Writes a safetensors file (tensors in the given order, header padded with
 * spaces to a multiple of 8 like the reference writer). Data is converted
 * from float32 with round-to-nearest-even. The file appears atomically (a
 * temporary file is renamed into place), and only one tensor is encoded at a time.
 */
export async function writeSafetensors(path: string, tensors: TensorToWrite[], metadata?: Record<string, string>): Promise<void> {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`'metadata.${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || Object.prototype.hasOwnProperty.call(header, t.name)) {
      throw new RangeError(`tensor name '${t.name}' is reserved or repeated`);
    }
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') {
      throw new TypeError(`tensor '${t.name}': 'dtype' must be F32, F16 or BF16, got '${String(t.dtype)}'`);
    }
    if (!t.shape.every(isNonNegativeInteger)) {
      throw new RangeError(`tensor '${t.name}': 'shape' ${JSON.stringify(t.shape)} is not an array of non-negative integers`);
    }
    if (elementCount(t.shape) !== t.data.length) {
      throw new RangeError(`tensor '${t.name}': 'data' has ${t.data.length} elements but shape ${JSON.stringify(t.shape)} needs ${elementCount(t.shape)}`);
    }
    const bytes = t.data.length * DTYPE_BYTES[t.dtype]!;
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) json = Buffer.concat([json, Buffer.alloc(padded - json.byteLength, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.byteLength));

  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fh = await open(tmp, 'w');
  try {
    let position = 0;
    for (const chunk of [prefix, json]) position += await writeAll(fh, chunk, position);
    for (const t of tensors) position += await writeAll(fh, fromFloat32(t.data, t.dtype), position);
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}
