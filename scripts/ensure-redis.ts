/**
 * npm test's second pretest step: the queue tests start their own
 * redis-server (test/helpers/redis.ts), so one must be on the PATH. When it
 * is not, this installs Debian's package where it can (as root with
 * apt-get), and otherwise stops with the one command that installs it, so
 * no queue test is ever skipped.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function redisVersion(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return probe.error || probe.status !== 0 ? undefined : probe.stdout.trim();
}

function hasAptGet(): boolean {
  return !spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).error;
}

function aptGet(args: string[]): boolean {
  const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0;
}

export function ensureRedis(): string {
  let version = redisVersion();
  if (!version && isRoot() && hasAptGet()) {
    console.error('ensure-redis: no redis-server found; installing Debian\'s for the queue tests');
    if (aptGet(['update'])) aptGet(['install', '-y', 'redis-server']);
    version = redisVersion();
  }
  if (!version) {
    console.error('\nThe queue tests need redis-server on the PATH. Install it with:\n  sudo apt-get install -y redis-server\n');
    process.exit(1);
  }
  console.log(`redis for the queue tests: ${version}`);
  return version;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) ensureRedis();
