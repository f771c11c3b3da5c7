import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint, writeSafetensors, type FingerprintCache } from '../../src/engine/checkpoint/index.js';
import { writeTinyModel } from '../../src/engine/fixtures/index.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-ckpt-fp-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
async function makeCheckpoint(config: object = { model_type: 'toy', hidden_size: 4 }): Promise<string> {
  const dir = join(root, `c${counter++}`);
  await mkdir(dir);
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  await writeSafetensors(join(dir, 'model.safetensors'), [
    { name: 'a', dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
    { name: 'b', dtype: 'BF16', shape: [3], data: new Float32Array([5, 6, 7]) },
  ]);
  return dir;
}

async function fingerprintOf(dir: string, cache?: FingerprintCache): Promise<string> {
  const ckpt = await Checkpoint.open(dir);
  try {
    return await ckpt.fingerprint(cache);
  } finally {
    await ckpt.close();
  }
}

/** A Map-backed cache that records every call. */
function spyCache(initial: [string, string][] = []) {
  const store = new Map(initial);
  const calls: string[] = [];
  const cache: FingerprintCache = {
    async get(key) {
      calls.push(`get ${key}`);
      return store.get(key);
    },
    async set(key, value) {
      calls.push(`set ${key}`);
      store.set(key, value);
    },
  };
  return { cache, store, calls };
}

describe('Checkpoint.fingerprint', () => {
  it('is a sha256 hex digest, identical for identical content in different directories', async () => {
    const a = await fingerprintOf(await makeCheckpoint());
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await fingerprintOf(await makeCheckpoint())).toBe(a);
  });

  it('survives renaming the directory', async () => {
    const dir = await makeCheckpoint();
    const before = await fingerprintOf(dir);
    const moved = join(root, `moved-${counter++}`);
    await rename(dir, moved);
    expect(await fingerprintOf(moved)).toBe(before);
  });

  it('changes when one byte of tensor data changes', async () => {
    const dir = await makeCheckpoint();
    const before = await fingerprintOf(dir);
    const ckpt = await Checkpoint.open(dir);
    const { dataOffset } = ckpt.tensors.get('b')!;
    await ckpt.close();
    const fh = await open(join(dir, 'model.safetensors'), 'r+');
    await fh.write(Buffer.from([0x01]), 0, 1, dataOffset);
    await fh.close();
    expect(await fingerprintOf(dir)).not.toBe(before);
  });

  it('ignores config formatting but not config values', async () => {
    const dir = await makeCheckpoint({ model_type: 'toy', hidden_size: 4 });
    const before = await fingerprintOf(dir);
    await writeFile(join(dir, 'config.json'), '{\n  "hidden_size": 4,\n  "model_type": "toy"\n}\n');
    expect(await fingerprintOf(dir)).toBe(before);
    await writeFile(join(dir, 'config.json'), '{"hidden_size": 5, "model_type": "toy"}');
    expect(await fingerprintOf(dir)).not.toBe(before);
  });

  it('survives renaming the shards of an indexed checkpoint', async () => {
    const dir = join(root, `sharded-${counter++}`);
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), '{}');
    const write = async (first: string, second: string) => {
      await writeSafetensors(join(dir, first), [{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
      await writeSafetensors(join(dir, second), [{ name: 'y', dtype: 'F16', shape: [1], data: new Float32Array([2]) }]);
      await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: first, y: second } }));
    };
    await write('s1.safetensors', 's2.safetensors');
    const before = await fingerprintOf(dir);
    await rm(join(dir, 's1.safetensors'));
    await rm(join(dir, 's2.safetensors'));
    await write('z-9.safetensors', 'a-0.safetensors');
    expect(await fingerprintOf(dir)).toBe(before);
  });

  it('stores per-file digests in the cache and reuses them without re-hashing', async () => {
    const dir = await makeCheckpoint();
    const file = join(dir, 'model.safetensors');
    const spy = spyCache();
    const first = await fingerprintOf(dir, spy.cache);
    expect(spy.calls.map((c) => c.split(' ')[0])).toEqual(['get', 'set']);
    const [key, digest] = [...spy.store][0]!;
    expect(key).toContain(file);
    expect(digest).toBe(createHash('sha256').update(await readFile(file)).digest('hex'));

    spy.calls.length = 0;
    expect(await fingerprintOf(dir, spy.cache)).toBe(first);
    expect(spy.calls).toEqual([`get ${key}`]);

    // A different cached digest for the same key must flow into the result:
    // proof that the file was not hashed again.
    const fake = spyCache([[key, 'f'.repeat(64)]]);
    const fromFake = await fingerprintOf(dir, fake.cache);
    expect(fromFake).not.toBe(first);
    expect(fake.calls).toEqual([`get ${key}`]);
  });

  it('misses the cache for a copy at another path (the key holds path, size and mtime)', async () => {
    const dir = await makeCheckpoint();
    const spy = spyCache();
    await fingerprintOf(dir, spy.cache);
    const copy = join(root, `copy-${counter++}`);
    await cp(dir, copy, { recursive: true });
    spy.calls.length = 0;
    await fingerprintOf(copy, spy.cache);
    expect(spy.calls.map((c) => c.split(' ')[0])).toEqual(['get', 'set']);
  });
});

describe('tokenizer files are part of the identity', () => {
  it('editing tokenizer_config.json changes the fingerprint; removing it changes it again', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fp-tok-'));
    try {
      const dir = join(root, 'm');
      await writeTinyModel(dir, { textOnly: true });
      const fp = async () => {
        const c = await Checkpoint.open(dir);
        try {
          return await c.fingerprint();
        } finally {
          await c.close();
        }
      };
      const before = await fp();
      expect(await fp()).toBe(before);
      await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ add_bos_token: true }));
      const edited = await fp();
      expect(edited).not.toBe(before);
      await rm(join(dir, 'tokenizer_config.json'));
      expect(await fp()).not.toBe(edited);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
