import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { writePlantedTrio } from '../../src/engine/fixtures/index.js';
import { startServer } from '../../src/server.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/frankenscope.js', import.meta.url).pathname;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'frankenscope-cli-'));
  await writePlantedTrio(join(dir, 'models'), { dtype: 'BF16' });
  env = { ...process.env, FRANKENSCOPE_WAREHOUSE: join(dir, 'w.duckdb'), FRANKENSCOPE_MODEL_ROOTS: join(dir, 'models') };
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => run(process.execPath, [BIN, ...args], { env: { ...env, ...extraEnv }, timeout: 120_000 });

describe('frankenscope CLI', () => {
  test('characterize stores its run, prints per-layer JSON, and a second call is served from the warehouse', async () => {
    const args = ['characterize', '--base', join(dir, 'models/base'), '--sft', join(dir, 'models/sft'), '--rl', join(dir, 'models/rl'), '--top-k', '8', '--json'];
    const first = JSON.parse((await cli(args)).stdout);
    expect(first.cached).toBe(false);
    expect(first.layers.map((l: { index: number }) => l.index)).toEqual([-3, -2, -1, 0, ...Array.from({ length: 12 }, (_, i) => i + 1)]);
    // RL was planted only in the middle and late thirds
    const rlFro = (i: number) => first.layers.find((l: { index: number }) => l.index === i).rl.froNorm;
    expect(rlFro(2)).toBe(0);
    expect(rlFro(6)).toBeGreaterThan(0);
    expect(rlFro(12)).toBeGreaterThan(rlFro(6));
    const second = JSON.parse((await cli(args)).stdout);
    expect(second.cached).toBe(true);
    expect(second.runId).toBe(first.runId);
  }, 180_000);

  test('sql reads the warehouse directly, and through the server while one holds it', async () => {
    const query = "SELECT count(*) AS n FROM runs WHERE kind = 'characterization' AND status = 'DONE'";
    const direct = JSON.parse((await cli(['sql', query, '--json'])).stdout);
    expect(direct.rows).toEqual([[1]]);
    const server = await startServer({ ...loadConfig(env), port: 0 });
    try {
      const viaServer = JSON.parse((await cli(['sql', query, '--json'], { FRANKENSCOPE_URL: server.url })).stdout);
      expect(viaServer.rows).toEqual([[1]]);
      const refused = await cli(['sql', 'DROP TABLE runs'], { FRANKENSCOPE_URL: server.url }).catch((e) => e);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/SQL_REFUSED/);
    } finally {
      await server.close();
    }
    // a server that requires a token: the CLI sends the same FRANKENSCOPE_TOKEN as a Bearer header
    const token = 'a-long-enough-test-token-1234';
    const guarded = await startServer({ ...loadConfig({ ...env, FRANKENSCOPE_TOKEN: token }), port: 0 });
    try {
      const withToken = JSON.parse((await cli(['sql', query, '--json'], { FRANKENSCOPE_URL: guarded.url, FRANKENSCOPE_TOKEN: token })).stdout);
      expect(withToken.rows).toEqual([[1]]);
      const without = await cli(['sql', query], { FRANKENSCOPE_URL: guarded.url }).catch((e) => e);
      expect(without.code).toBe(1);
      expect(without.stderr).toMatch(/UNAUTHENTICATED/);
    } finally {
      await guarded.close();
    }
  }, 120_000);

  test('runs from any working directory (the project\'s tsconfig, not the caller\'s)', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'sql', 'SELECT 41 + 1 AS answer', '--json'], { env, cwd: tmpdir(), timeout: 120_000 });
    expect(JSON.parse(stdout).rows).toEqual([[42]]);
  }, 120_000);

  test('bad arguments are explained', async () => {
    const e = await cli(['characterize', '--base', 'x', '--sft', 'y', '--rl', 'z', '--top-k', 'zero']).catch((err) => err);
    expect(e.code).not.toBe(0);
    expect(e.stderr).toMatch(/top-k/);
    const missing = await cli(['characterize', '--base', join(dir, 'nope'), '--sft', join(dir, 'models/sft'), '--rl', join(dir, 'models/rl')]).catch((err) => err);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist/);
  }, 60_000);
});
