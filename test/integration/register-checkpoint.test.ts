import { mkdir, symlink, writeFile, cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const register = (path: string, name?: string) =>
  t.execute<any>(`mutation($p: String!, $n: String) { registerCheckpoint(path: $p, name: $n) { id path fingerprint architecture numLayers numVisionLayers parameterCount dtype } }`, { p: path, n: name ?? null });

async function checkpointIds(): Promise<string[]> {
  const r = await t.execute<any>('{ checkpoints { id } }');
  return r.data.checkpoints.map((c: { id: string }) => c.id);
}

describe('registerCheckpoint', () => {
  test('registers a directory inside a model root with its layout and size', async () => {
    const r = await register('planted/sft');
    expect(r.errors).toBeUndefined();
    const c = r.data.registerCheckpoint;
    expect(c.id).toBe('planted/sft');
    expect(c.numLayers).toBe(12);
    expect(c.numVisionLayers).toBe(3);
    expect(c.dtype).toBe('F32');
    expect(c.architecture).toBe('qwen2_5_vl');
    const expectedParams = [...t.trio.sft.values()].reduce((n, x) => n + x.shape.reduce((a, b) => a * b, 1), 0);
    expect(c.parameterCount).toBe(expectedParams);
    expect(c.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(await checkpointIds()).toContain('planted/sft');
  });

  test('the fingerprint follows content, not the path', async () => {
    await cp(join(t.dir, 'models/planted/sft'), join(t.dir, 'models/copy-of-sft'), { recursive: true });
    const a = (await register('planted/sft')).data.registerCheckpoint;
    const b = (await register('copy-of-sft')).data.registerCheckpoint;
    expect(b.fingerprint).toBe(a.fingerprint);
    const base = (await register('planted/base')).data.registerCheckpoint;
    expect(base.fingerprint).not.toBe(a.fingerprint);
  });

  test('paths outside the roots are refused, however they are spelled', async () => {
    const before = await checkpointIds();
    await symlink('/etc', join(t.dir, 'models', 'escape'));
    for (const path of ['/etc', '../../etc', 'planted/../../../', join(t.dir, 'warehouse.duckdb'), 'escape', 'escape/ssl']) {
      const r = await register(path);
      expect(r.errors?.[0]?.extensions?.code, path).toBe('PATH_NOT_ALLOWED');
    }
    expect(await checkpointIds()).toEqual(before);
  });

  test('a missing directory inside a root is NOT_FOUND', async () => {
    const r = await register('planted/nothing-here');
    expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  test('a corrupt checkpoint is CHECKPOINT_INVALID with the reason and is not registered', async () => {
    const dir = join(t.dir, 'models', 'corrupt');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'config.json'), await readFile(join(t.dir, 'models/planted/sft/config.json')));
    const header = Buffer.from(JSON.stringify({ 'w': { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    await writeFile(join(dir, 'model.safetensors'), Buffer.concat([len, header, Buffer.alloc(12)]));
    const r = await register('corrupt');
    expect(r.errors?.[0]?.extensions?.code).toBe('CHECKPOINT_INVALID');
    expect(r.errors?.[0]?.extensions?.reason).toBe('SIZE_MISMATCH');
    expect(r.errors?.[0]?.message).toContain("'w'");
    expect(await checkpointIds()).not.toContain('corrupt');
  });

  test('an invalid name is BAD_USER_INPUT', async () => {
    const r = await register('planted/rl', "bad name; DROP TABLE");
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
