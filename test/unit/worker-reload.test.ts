import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeTinyModel } from '../../src/engine/fixtures/index.js';
import { ModelWorker } from '../../src/engine/runtime/model-worker.js';

let dir: string;
let worker: ModelWorker;
const job = new URL('./worker-reload-analysis.ts', import.meta.url);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-reload-'));
  worker = await ModelWorker.create();
}, 60_000);

afterAll(async () => {
  await worker?.release();
  await rm(dir, { recursive: true, force: true });
});

describe('model worker runner cache', () => {
  test('reuses a runner while the files are unchanged and reloads when they change', async () => {
    const model = join(dir, 'm');
    await writeTinyModel(model, { seed: 1, textOnly: true });
    const a1 = await worker.run<number[]>(job, 'firstLogits', { dir: model });
    const a2 = await worker.run<number[]>(job, 'firstLogits', { dir: model });
    expect(a2).toEqual(a1);
    // same directory, other weights: a stale cached runner would repeat a1
    await new Promise((r) => setTimeout(r, 20));
    await writeTinyModel(model, { seed: 2, textOnly: true });
    const b = await worker.run<number[]>(job, 'firstLogits', { dir: model });
    expect(b).not.toEqual(a1);
  }, 60_000);
});
