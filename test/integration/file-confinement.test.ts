/**
 * Every file a reader opens stays inside the model roots and is a regular
 * file: a symlink out of a root or a FIFO inside a registered folder is
 * refused, parse errors never quote a file, and messages carry no server
 * path the client did not send.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Checkpoint } from '../../src/engine/checkpoint/index.js';
import { writeSafetensors } from '../../src/engine/checkpoint/index.js';
import { writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { FileAccessError } from '../../src/engine/fs/confined-files.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { writeCountingPairs, writeJsonlProbes } from '../helpers/probe-fixtures.js';

let t: TestApp;
let models: string;
let outside: string;
const SECRET = 'TOP-SECRET: the launch codes are 0000';

beforeAll(async () => {
  t = await createTestApp();
  models = join(t.dir, 'models');
  outside = join(t.dir, 'outside');
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'secret.txt'), SECRET);
  await writeTinyTrio(join(models, 'tiny'), { numLayers: 12 });
  for (const role of ['sft', 'rl']) expect((await t.execute(`mutation { registerCheckpoint(path: "tiny/${role}") { id } }`)).errors).toBeUndefined();
}, 120_000);

afterAll(async () => {
  await t?.close();
});

const registerCheckpoint = (path: string) =>
  t.execute<any>('mutation($p: String!) { registerCheckpoint(path: $p) { id } }', { p: path });
const registerProbeSet = (path: string, name: string) =>
  t.execute<any>('mutation($p: String!, $n: String) { registerProbeSet(path: $p, name: $n) { id } }', { p: path, n: name });
const checkpointIds = async (): Promise<string[]> => (await t.execute<any>('{ checkpoints { id } }')).data.checkpoints.map((c: { id: string }) => c.id);
const probeSetIds = async (): Promise<string[]> => (await t.execute<any>('{ probeSets { id } }')).data.probeSets.map((p: { id: string }) => p.id);
const exampleRows = async (): Promise<number> => {
  const r = await t.execute<any>('{ sql(query: "SELECT count(*) AS n FROM examples") { rows } }');
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return Number(r.data.sql.rows[0][0]);
};

/** A copy of tiny/base at `name` inside the models root. */
async function copyOfBase(name: string): Promise<string> {
  const dir = join(models, name);
  await cp(join(models, 'tiny', 'base'), dir, { recursive: true });
  return dir;
}

/** Moves `file` out of the root and leaves a symlink to it in its place. */
async function moveOutAndLink(file: string, outsideName: string): Promise<string> {
  const target = join(outside, outsideName);
  await cp(file, target);
  await rm(file);
  await symlink(target, file);
  return target;
}

function expectNoLeak(error: { message: string } | undefined): void {
  expect(error?.message).not.toContain(outside);
  expect(error?.message).not.toContain('TOP-SECRET');
  expect(error?.message).not.toContain(process.cwd());
}

describe('checkpoint files stay inside the roots', () => {
  test('a model.safetensors symlinked out of the root is refused and nothing is registered', async () => {
    const dir = await copyOfBase('leaky-weights');
    await moveOutAndLink(join(dir, 'model.safetensors'), 'weights.safetensors');
    const before = await checkpointIds();
    const r = await registerCheckpoint('leaky-weights');
    expect(r.errors?.[0]?.extensions?.code).toBe('PATH_NOT_ALLOWED');
    expect(r.errors?.[0]?.message).toContain('model.safetensors');
    expectNoLeak(r.errors?.[0]);
    expect(await checkpointIds()).toEqual(before);
  });

  test('an index shard symlinked out of the root is refused', async () => {
    const dir = join(models, 'leaky-shard');
    await mkdir(dir, { recursive: true });
    await cp(join(models, 'tiny', 'base', 'config.json'), join(dir, 'config.json'));
    await writeSafetensors(join(outside, 'shard.safetensors'), [{ name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }]);
    await symlink(join(outside, 'shard.safetensors'), join(dir, 'model-00001-of-00001.safetensors'));
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { w: 'model-00001-of-00001.safetensors' } }));
    const r = await registerCheckpoint('leaky-shard');
    expect(r.errors?.[0]?.extensions?.code).toBe('PATH_NOT_ALLOWED');
    expectNoLeak(r.errors?.[0]);
    expect(await checkpointIds()).not.toContain('leaky-shard');
  });

  test('a config.json symlinked to an outside text file is refused without quoting it', async () => {
    const dir = await copyOfBase('leaky-config');
    await rm(join(dir, 'config.json'));
    await symlink(join(outside, 'secret.txt'), join(dir, 'config.json'));
    const r = await registerCheckpoint('leaky-config');
    expect(r.errors?.[0]?.extensions?.code).toBe('PATH_NOT_ALLOWED');
    expectNoLeak(r.errors?.[0]);
  });

  test('a config.json that is not JSON names the file, line and column, never its bytes', async () => {
    const dir = await copyOfBase('garbled-config');
    await writeFile(join(dir, 'config.json'), `{\n  "model_type": "qwen2",\n  ${SECRET}\n}`);
    const r = await registerCheckpoint('garbled-config');
    expect(r.errors?.[0]?.extensions?.code).toBe('CHECKPOINT_INVALID');
    expect(r.errors?.[0]?.extensions?.reason).toBe('CONFIG_INVALID');
    expect(r.errors?.[0]?.message).toContain('config.json');
    expect(r.errors?.[0]?.message).toMatch(/line 3, column 3/);
    expectNoLeak(r.errors?.[0]);
  });

  test('a config.json that is a FIFO is refused at once instead of hanging', async () => {
    const dir = await copyOfBase('fifo-config');
    await rm(join(dir, 'config.json'));
    execFileSync('mkfifo', [join(dir, 'config.json')]);
    const started = Date.now();
    const r = await registerCheckpoint('fifo-config');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.extensions?.reason).toBe('NOT_A_FILE');
    expect(r.errors?.[0]?.message).toMatch(/FIFO/);
  }, 10_000);

  test('tensor reads after opening are confined like the opening was', async () => {
    const dir = await copyOfBase('swapped-later');
    const checkpoint = await Checkpoint.open(dir, { roots: [models] });
    try {
      await moveOutAndLink(join(dir, 'model.safetensors'), 'swapped.safetensors');
      const name = [...checkpoint.tensors.keys()][0]!;
      await expect(checkpoint.readRaw(name)).rejects.toSatisfy((e) => e instanceof FileAccessError && e.reason === 'OUTSIDE_ROOTS');
    } finally {
      await checkpoint.close();
    }
  });

  test('registering writes the checkpoint row and its tensors in one transaction', async () => {
    // a zero-size tensor whose first dimension does not fit the warehouse's INTEGER[] shape column:
    // a valid safetensors file whose tensor rows the warehouse refuses after the checkpoint row was written
    const dir = join(models, 'wide-tensor');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'qwen2' }));
    const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [3_000_000_000, 0], data_offsets: [0, 0] } }));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    await writeFile(join(dir, 'model.safetensors'), Buffer.concat([length, header]));
    const r = await registerCheckpoint('wide-tensor');
    expect(r.errors).toBeDefined();
    expect(await checkpointIds()).not.toContain('wide-tensor');
  });
});

describe('probe-set files stay inside the roots and are checked at registration', () => {
  test('a probes.jsonl symlinked out of the root is refused and none of its examples are stored', async () => {
    const dir = join(models, 'probes', 'leaky-jsonl');
    await writeJsonlProbes(dir, [{ id: 'q0', prompt: 'What is 1 + 1?', answer: '2' }]);
    await moveOutAndLink(join(dir, 'probes.jsonl'), 'probes.jsonl');
    const rows = await exampleRows();
    const r = await registerProbeSet('probes/leaky-jsonl', 'leaky-jsonl');
    expect(r.errors?.[0]?.extensions?.code).toBe('PATH_NOT_ALLOWED');
    expectNoLeak(r.errors?.[0]);
    expect(await probeSetIds()).not.toContain('leaky-jsonl');
    expect(await exampleRows()).toBe(rows);
  });

  test('an image symlinked out of the root is refused', async () => {
    const dir = join(models, 'probes', 'leaky-image');
    await writeCountingPairs(dir, 2);
    await moveOutAndLink(join(dir, 'counting', 'images', 'c1_s.png'), 'c1_s.png');
    const r = await registerProbeSet('probes/leaky-image', 'leaky-image');
    expect(r.errors?.[0]?.extensions?.code).toBe('PATH_NOT_ALLOWED');
    expectNoLeak(r.errors?.[0]);
    expect(await probeSetIds()).not.toContain('leaky-image');
  });

  test('a .jpg holding junk bytes is refused at registration (BAD_IMAGE) and nothing is stored', async () => {
    const dir = join(models, 'probes', 'junk-image');
    await writeJsonlProbes(dir, [{ id: 'p0', prompt: '<image>How many squares?', answer: '3', image: true, split: 'perception' }]);
    await writeFile(join(dir, 'img', 'junk.jpg'), 'this is not a JPEG at all');
    const text = (await readFile(join(dir, 'probes.jsonl'), 'utf8')).replace('img/q0.png', 'img/junk.jpg');
    await writeFile(join(dir, 'probes.jsonl'), text);
    const rows = await exampleRows();
    const r = await registerProbeSet('probes/junk-image', 'junk-image');
    expect(r.errors?.[0]?.extensions?.code).toBe('PROBE_SET_INVALID');
    expect(r.errors?.[0]?.extensions?.reason).toBe('BAD_IMAGE');
    expect(r.errors?.[0]?.message).toContain('img/junk.jpg');
    expect(await probeSetIds()).not.toContain('junk-image');
    expect(await exampleRows()).toBe(rows);
  });

  test('an error names the absolute path at most once', async () => {
    const dir = join(models, 'probes', 'missing-image');
    await writeCountingPairs(dir, 1);
    await rm(join(dir, 'counting', 'images', 'c0_s.png'));
    const r = await registerProbeSet('probes/missing-image', 'missing-image');
    expect(r.errors?.[0]?.extensions?.reason).toBe('MISSING_IMAGE');
    expect(r.errors?.[0]?.message.split(dir).length).toBe(2);
  });

  test('a JSONL of some other shape is told which formats are accepted', async () => {
    const dir = join(models, 'probes', 'foreign');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'probes.jsonl'), `${JSON.stringify({ question: 'What is 2 + 2?', response: '4' })}\n`);
    const r = await registerProbeSet('probes/foreign', 'foreign');
    expect(r.errors?.[0]?.extensions?.code).toBe('PROBE_SET_INVALID');
    expect(r.errors?.[0]?.message).toContain("'id' is missing");
    expect(r.errors?.[0]?.message).toContain('probes.jsonl');
    expect(r.errors?.[0]?.message).toContain('data.jsonl');
    expect(r.errors?.[0]?.message).toContain('target_image');
  });

  test('a JSONL line that is not JSON names line and column without quoting it', async () => {
    const dir = join(models, 'probes', 'garbled');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'probes.jsonl'), `\n${SECRET}\n`);
    const r = await registerProbeSet('probes/garbled', 'garbled');
    expect(r.errors?.[0]?.extensions?.reason).toBe('BAD_JSON');
    expect(r.errors?.[0]?.message).toMatch(/probes\.jsonl:2\b.*column 1/);
    expectNoLeak(r.errors?.[0]);
  });

  test('the format a probe set answers is one of the names the schema documents', async () => {
    await writeCountingPairs(join(models, 'probes', 'pairs'), 1);
    await writeJsonlProbes(join(models, 'probes', 'questions'), [{ id: 'q0', prompt: 'What is 1 + 1?', answer: '2' }]);
    expect((await registerProbeSet('probes/pairs', 'fmt-pairs')).errors).toBeUndefined();
    expect((await registerProbeSet('probes/questions', 'fmt-questions')).errors).toBeUndefined();
    const r = await t.execute<any>(`{ probeSets { id format } __type(name: "ProbeSet") { fields { name description } } }`);
    const description: string = r.data.__type.fields.find((f: { name: string }) => f.name === 'format').description;
    const documented = [...description.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]);
    const formats = Object.fromEntries(r.data.probeSets.map((p: { id: string; format: string }) => [p.id, p.format]));
    expect(documented).toContain(formats['fmt-pairs']);
    expect(documented).toContain(formats['fmt-questions']);
    expect(formats['fmt-pairs']).not.toBe(formats['fmt-questions']);
  });
});

describe('export paths', () => {
  const preset = '{ preset: IN_EARLY__RL_MIDDLE_LATE, sft: "tiny/sft", rl: "tiny/rl" }';
  const exportTo = (path: string) =>
    t.execute<any>(`mutation($p: String!) { exportVariant(recipe: ${preset}, path: $p, dtype: "F32") { id path } }`, { p: path });

  test('a relative path whose folder is missing is refused without naming the server working directory', async () => {
    const r = await exportTo('no-such-folder/x');
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toContain('no-such-folder/x');
    expectNoLeak(r.errors?.[0]);
  });

  test('a NUL byte in the path is BAD_USER_INPUT', async () => {
    const r = await exportTo(join(models, 'exported\u0000x'));
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  test('a dangling symlink at the path is refused as existing, not an internal error', async () => {
    await symlink(join(outside, 'nothing-here'), join(models, 'dangling'));
    const r = await exportTo(join(models, 'dangling'));
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toMatch(/already exists/);
  });

  test('a relative path resolves against the model root', async () => {
    const r = await exportTo('relative-export');
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(r.data.exportVariant.path).toBe(join(models, 'relative-export'));
  }, 120_000);
});
