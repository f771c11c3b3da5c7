#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `npx frankenscope` needs no build step.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsxCli = require.resolve('tsx/cli');
// libuv sizes its threadpool once, from the environment the process starts
// with; the server needs more than the default 4 (src/threadpool.ts, whose
// SERVER_THREADPOOL_SIZE this number must equal).
const env = { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16' };
// the project's tsconfig, not the caller's: decorators (type-graphql) need its settings from any working directory
const result = spawnSync(process.execPath, [tsxCli, '--tsconfig', join(root, 'tsconfig.json'), join(root, 'src', 'cli.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
});
process.exit(result.status ?? 1);
