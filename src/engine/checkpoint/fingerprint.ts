/**
 * Content hashing for checkpoint identity. A file's digest is the sha256 of
 * all its bytes (header and data), streamed so memory stays bounded.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * A persistent store of per-file digests, so a large checkpoint is not
 * re-hashed on every start. Keys come from {@link fileCacheKey}.
 */
export interface FingerprintCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, fingerprint: string): Promise<void>;
}

/** Cache key of one file's digest: its absolute path, size and modification time. */
export function fileCacheKey(absolutePath: string, size: number, mtimeMs: number): string {
  return `sha256-file-v1|${absolutePath}|${size}|${mtimeMs}`;
}

/** sha256 (hex) of a whole file, read as a stream. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** JSON with object keys sorted at every depth, so formatting never changes a fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha256 (hex) of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
