/**
 * What a directory of input files looks like on disk, without reading any
 * of them: name, size, mtime, ctime and inode of every entry of the
 * directory (plus any files outside it), and the directory's own. Equal
 * stamps mean no file was written, replaced, added, removed or renamed in
 * between, so a fingerprint computed from the files still holds.
 *
 * Synchronous on purpose: a stat of a cached inode costs microseconds,
 * while the async form queues behind every DuckDB statement and running
 * analysis's file read on libuv's shared threadpool.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function stampOne(path: string): string {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false });
  return st ? `${path}|${st.size}|${st.mtimeNs}|${st.ctimeNs}|${st.ino}` : `${path}|absent`;
}

/** The stamp of `dir`, its entries and `extraFiles`; undefined when the directory cannot be listed. */
export function directoryStamp(dir: string, extraFiles: readonly string[] = []): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return undefined;
  }
  const paths = new Set([dir, ...names.map((name) => join(dir, name)), ...extraFiles]);
  return [...paths].map(stampOne).join('\n');
}
