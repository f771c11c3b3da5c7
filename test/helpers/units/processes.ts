/** Real child processes for the queue tests: workers and coordinators that a test can SIGKILL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MALLOC_MMAP_THRESHOLD } from '../../../src/threadpool.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface Child {
  process: ChildProcess;
  pid: number;
  output(): string;
  /** resolves with the first JSON line whose `event` is `event` */
  waitForEvent<T = Record<string, unknown>>(event: string, timeoutMs?: number): Promise<T>;
  /** resolves when the output contains `text` */
  waitForText(text: string, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Follows a child's output so a test can wait for a line of it. */
export function track(child: ChildProcess): Child {
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.once('exit', () => {
    for (const wake of waiters) wake();
  });
  const waitUntil = <T>(find: () => T | undefined, what: string, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found !== undefined) {
          cleanup();
          resolve(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${what}; output:\n${output}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${what} within ${timeoutMs} ms; output:\n${output}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    process: child,
    pid: child.pid!,
    output: () => output,
    waitForEvent: <T>(event: string, timeoutMs = 30_000) =>
      waitUntil<T>(
        () => {
          for (const line of output.split('\n')) {
            if (!line.startsWith('{')) continue;
            const parsed = JSON.parse(line) as { event?: string };
            if (parsed.event === event) return parsed as T;
          }
          return undefined;
        },
        `event '${event}'`,
        timeoutMs,
      ),
    waitForText: (text: string, timeoutMs = 30_000) => waitUntil(() => (output.includes(text) ? true : undefined), `'${text}'`, timeoutMs).then(() => undefined),
    kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}

/**
 * The start environment `serve` and `worker` would otherwise relaunch
 * themselves to get: given up front, a SIGKILL reaches the process itself.
 */
const START_ENVIRONMENT = { UV_THREADPOOL_SIZE: '8', MALLOC_MMAP_THRESHOLD_: String(MALLOC_MMAP_THRESHOLD) };

/** `node --import tsx <args>` in the package root. */
export function tsx(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...START_ENVIRONMENT, ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface WorkerChildOptions {
  name: string;
  lockMs?: number;
  stalledMs?: number;
  concurrency?: number;
  env?: NodeJS.ProcessEnv;
}

/** `frankenscope worker` as its own process, resolved once it takes units. */
export async function startWorkerProcess(redisUrl: string, options: WorkerChildOptions): Promise<Child> {
  const args = ['src/cli.ts', 'worker', '--redis', redisUrl, '--name', options.name, '--threads', '1'];
  if (options.lockMs) args.push('--lock-ms', String(options.lockMs));
  if (options.stalledMs) args.push('--stalled-ms', String(options.stalledMs));
  if (options.concurrency) args.push('--concurrency', String(options.concurrency));
  const child = track(tsx(args, options.env));
  await child.waitForText('taking units from', 60_000);
  return child;
}

/** coordinator-main.ts as its own process. */
export function startCoordinatorProcess(options: object): Child {
  return track(tsx([fileURLToPath(new URL('./coordinator-main.ts', import.meta.url)), JSON.stringify(options)]));
}
