import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint, CheckpointError, writeSafetensors, type TensorToWrite } from '../../src/engine/checkpoint/index.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-ckpt-open-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
interface DirSpec {
  config?: string | null;
  files?: Record<string, TensorToWrite[]>;
  index?: unknown;
}
async function makeDir({ config = '{"model_type":"toy"}', files = {}, index }: DirSpec): Promise<string> {
  const dir = join(root, `ckpt${counter++}`);
  await mkdir(dir);
  if (config !== null) await writeFile(join(dir, 'config.json'), config);
  for (const [name, tensors] of Object.entries(files)) await writeSafetensors(join(dir, name), tensors);
  if (index !== undefined) await writeFile(join(dir, 'model.safetensors.index.json'), typeof index === 'string' ? index : JSON.stringify(index));
  return dir;
}

function t(name: string, shape: number[], values?: number[], dtype: 'F32' | 'F16' | 'BF16' = 'F32'): TensorToWrite {
  const n = shape.reduce((a, b) => a * b, 1);
  return { name, dtype, shape, data: new Float32Array(values ?? Array.from({ length: n }, (_, i) => i + 1)) };
}

async function openError(dir: string): Promise<CheckpointError> {
  const e = await Checkpoint.open(dir).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CheckpointError);
  return e as CheckpointError;
}

describe('Checkpoint.open: a single file', () => {
  it('reads config and headers, sorts tensors, counts parameters and finds the dominant dtype', async () => {
    const dir = await makeDir({
      files: { 'model.safetensors': [t('w.b', [2, 3], undefined, 'BF16'), t('w.a', [4], undefined, 'F32'), t('n', [3], [0.5, -1, 2], 'F16')] },
    });
    const ckpt = await Checkpoint.open(dir);
    try {
      expect(ckpt.dir).toBe(dir);
      expect(ckpt.config).toEqual({ model_type: 'toy' });
      expect([...ckpt.tensors.keys()]).toEqual(['n', 'w.a', 'w.b']);
      expect(ckpt.tensors.get('w.b')).toMatchObject({ dtype: 'BF16', shape: [2, 3], byteLength: 12, file: join(dir, 'model.safetensors') });
      expect(ckpt.parameterCount()).toBe(13);
      expect(ckpt.dominantDtype()).toBe('BF16');
      expect([...(await ckpt.readFloat32('w.b'))]).toEqual([1, 2, 3, 4, 5, 6]);
      expect([...(await ckpt.readFloat32('n'))]).toEqual([0.5, -1, 2]);
      expect([...(await ckpt.readFloat32('w.a'))]).toEqual([1, 2, 3, 4]);
    } finally {
      await ckpt.close();
    }
  });

  it('rounds on write and reads back the stored (rounded) value', async () => {
    const dir = await makeDir({ files: { 'model.safetensors': [t('x', [2], [1 + 2 ** -9, 0.1], 'BF16')] } });
    const ckpt = await Checkpoint.open(dir);
    expect([...(await ckpt.readFloat32('x'))]).toEqual([1, 0.10009765625]);
    await ckpt.close();
  });

  it('reads F64 tensors (rounded to float32) and refuses integer dtypes by name', async () => {
    const dir = await makeDir({ files: {} });
    const header = Buffer.from(JSON.stringify({ d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] }, i: { dtype: 'I32', shape: [1], data_offsets: [8, 12] } }));
    const data = Buffer.alloc(12);
    data.writeDoubleLE(0.1, 0);
    data.writeInt32LE(7, 8);
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(header.length));
    await writeFile(join(dir, 'model.safetensors'), Buffer.concat([prefix, header, data]));
    const ckpt = await Checkpoint.open(dir);
    expect([...(await ckpt.readFloat32('d'))]).toEqual([Math.fround(0.1)]);
    await expect(ckpt.readFloat32('i')).rejects.toMatchObject({ code: 'UNSUPPORTED_DTYPE', tensor: 'i' });
    expect(ckpt.dominantDtype()).toBe('F64'); // tie at one element each: alphabetical
    await ckpt.close();
  });

  it('opens and reads next to a 4 GiB tensor without loading it (sparse file)', async () => {
    const dir = await makeDir({});
    const big = 2 ** 30; // F32 elements: 4 GiB
    const header = Buffer.from(JSON.stringify({ big: { dtype: 'F32', shape: [big], data_offsets: [0, 4 * big] }, small: { dtype: 'F32', shape: [2], data_offsets: [4 * big, 4 * big + 8] } }));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(header.length));
    const file = join(dir, 'model.safetensors');
    await writeFile(file, Buffer.concat([prefix, header]));
    await truncate(file, 8 + header.length + 4 * big + 8);
    const before = process.memoryUsage().arrayBuffers;
    const ckpt = await Checkpoint.open(dir);
    expect(ckpt.parameterCount()).toBe(big + 2);
    expect([...(await ckpt.readFloat32('small'))]).toEqual([0, 0]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
    await ckpt.close();
  });

  it('TENSOR_NOT_FOUND and CLOSED', async () => {
    const dir = await makeDir({ files: { 'model.safetensors': [t('a', [1])] } });
    const ckpt = await Checkpoint.open(dir);
    await expect(ckpt.readFloat32('b')).rejects.toMatchObject({ code: 'TENSOR_NOT_FOUND', tensor: 'b' });
    await ckpt.readFloat32('a');
    await ckpt.close();
    await expect(ckpt.readFloat32('a')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('Checkpoint.open: several files', () => {
  it('reads a sharded checkpoint through its index', async () => {
    const dir = await makeDir({
      files: {
        'model-00001-of-00002.safetensors': [t('layers.0.w', [2, 2], [1, 2, 3, 4]), t('unlisted', [1])],
        'model-00002-of-00002.safetensors': [t('layers.1.w', [2], [5, 6], 'F16')],
      },
      index: { metadata: { total_size: 20 }, weight_map: { 'layers.1.w': 'model-00002-of-00002.safetensors', 'layers.0.w': 'model-00001-of-00002.safetensors' } },
    });
    const ckpt = await Checkpoint.open(dir);
    expect([...ckpt.tensors.keys()]).toEqual(['layers.0.w', 'layers.1.w']);
    expect(ckpt.tensors.get('layers.1.w')!.file).toBe(join(dir, 'model-00002-of-00002.safetensors'));
    expect([...(await ckpt.readFloat32('layers.0.w'))]).toEqual([1, 2, 3, 4]);
    expect([...(await ckpt.readFloat32('layers.1.w'))]).toEqual([5, 6]);
    await ckpt.close();
  });

  it('without an index, takes the union of all *.safetensors files', async () => {
    const dir = await makeDir({ files: { 'a.safetensors': [t('x', [1], [7])], 'b.safetensors': [t('y', [1], [8])] } });
    const ckpt = await Checkpoint.open(dir);
    expect([...ckpt.tensors.keys()]).toEqual(['x', 'y']);
    expect([...(await ckpt.readFloat32('y'))]).toEqual([8]);
    await ckpt.close();
  });

  it('DUPLICATE_TENSOR: the same name in two files without an index', async () => {
    const e = await openError(await makeDir({ files: { 'a.safetensors': [t('x', [1])], 'b.safetensors': [t('x', [1])] } }));
    expect(e.code).toBe('DUPLICATE_TENSOR');
    expect(e.tensor).toBe('x');
    expect(e.message).toMatch(/a\.safetensors.*b\.safetensors/);
  });

  it('INDEX_FILE_MISSING and INDEX_TENSOR_MISSING', async () => {
    const files = { 'model-1.safetensors': [t('x', [1])] };
    let e = await openError(await makeDir({ files, index: { weight_map: { x: 'model-1.safetensors', y: 'model-2.safetensors' } } }));
    expect([e.code, e.tensor]).toEqual(['INDEX_FILE_MISSING', 'y']);
    expect(e.message).toContain('model-2.safetensors');
    e = await openError(await makeDir({ files, index: { weight_map: { x: 'model-1.safetensors', z: 'model-1.safetensors' } } }));
    expect([e.code, e.tensor]).toEqual(['INDEX_TENSOR_MISSING', 'z']);
  });

  it('INDEX_INVALID: bad JSON, no weight_map, or a file outside the directory', async () => {
    const files = { 'model.safetensors': [t('x', [1])] };
    for (const index of ['{oops', { metadata: {} }, { weight_map: { x: '../model.safetensors' } }, { weight_map: { x: 3 } }]) {
      expect((await openError(await makeDir({ files, index }))).code).toBe('INDEX_INVALID');
    }
  });

  it('a corrupt shard fails with the shard named', async () => {
    const dir = await makeDir({ files: { 'a.safetensors': [t('x', [1])] } });
    await writeFile(join(dir, 'b.safetensors'), Buffer.from([1, 2, 3]));
    const e = await openError(dir);
    expect([e.code, e.file]).toEqual(['FILE_TOO_SMALL', join(dir, 'b.safetensors')]);
  });
});

describe('Checkpoint.open: directory errors', () => {
  it('DIR_NOT_FOUND and NOT_A_DIRECTORY', async () => {
    expect((await openError(join(root, 'nope'))).code).toBe('DIR_NOT_FOUND');
    const file = join(root, 'plain-file');
    await writeFile(file, 'x');
    expect((await openError(file)).code).toBe('NOT_A_DIRECTORY');
  });

  it('CONFIG_MISSING and CONFIG_INVALID', async () => {
    const files = { 'model.safetensors': [t('x', [1])] };
    const missing = await openError(await makeDir({ config: null, files }));
    expect(missing.code).toBe('CONFIG_MISSING');
    expect(missing.message).toContain('config.json');
    expect((await openError(await makeDir({ config: '{"a":', files }))).code).toBe('CONFIG_INVALID');
    expect((await openError(await makeDir({ config: '[1]', files }))).code).toBe('CONFIG_INVALID');
  });

  it('NO_SAFETENSORS: no weight files, or files without tensors', async () => {
    expect((await openError(await makeDir({}))).code).toBe('NO_SAFETENSORS');
    expect((await openError(await makeDir({ files: { 'model.safetensors': [] } }))).code).toBe('NO_SAFETENSORS');
  });
});
