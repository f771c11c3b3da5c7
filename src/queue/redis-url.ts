/** Redis connection settings from a redis:// URL, for BullMQ and plain ioredis clients. */
import { Redis, type RedisOptions } from 'ioredis';

/** Validates a redis:// or rediss:// URL, so a typo fails at start and not at the first run. */
export function parseRedisUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RangeError(`'${raw}' is not a Redis URL (expected redis://host:port)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new RangeError(`'${raw}' is not a Redis URL (expected redis://host:port)`);
  return url;
}

/** Redis URL without its password, for messages and logs. */
export function safeRedisUrl(raw: string): string {
  const url = parseRedisUrl(raw);
  if (url.password) url.password = '***';
  return url.toString().replace(/\/$/, '');
}

/** A client that fails at once while Redis is unreachable (no offline queue) and reconnects every 500 ms, for health checks and control keys. */
export function quickClient(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 500, ...options });
}
