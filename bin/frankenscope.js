#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `npx frankenscope` needs no build step.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsxCli = require.resolve('tsx/cli');
/** Bytes from which glibc malloc maps each block on its own and unmaps it when freed (src/threadpool.ts's MALLOC_MMAP_THRESHOLD). */
const MALLOC_MMAP_THRESHOLD = 1 << 20;
// libuv sizes its threadpool once, from the environment the process starts
// with; the server needs more than the default 4 (src/threadpool.ts, whose
// SERVER_THREADPOOL_SIZE this number must equal).
// glibc malloc likewise reads its tunables at start. By default it raises its
// mmap threshold to the size of each large block freed (up to 32 MB), after
// which widened weight tensors below that size are carved from per-thread
// heaps that fragment and are never given back: measured on a 3B-shaped VL
// model under a 6 GB weight budget, the swap analysis peaked at 9.0 GB with
// the default and 6.6 GB with a fixed 1 MB threshold (README, Memory).
const env = {
  ...process.env,
  UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16',
  MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? String(MALLOC_MMAP_THRESHOLD),
};
// the project's tsconfig, not the caller's: decorators (type-graphql) need its settings from any working directory
const child = spawn(process.execPath, [tsxCli, '--tsconfig', join(root, 'tsconfig.json'), join(root, 'src', 'cli.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
});
// a supervisor's stop (kill PID, systemd, docker stop) reaches the CLI, so a server never outlives this launcher holding its port and warehouse
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
